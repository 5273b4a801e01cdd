//! The x86 exception vectors the hypervisor treats apart, and their names.

/// Debug exception (#DB).
pub const DEBUG: u8 = 1;
/// Non-maskable interrupt.
pub const NMI: u8 = 2;
/// Invalid opcode (#UD): also how the forced-emulation prefix arrives.
pub const INVALID_OPCODE: u8 = 6;
/// Device not available (#NM): the guest's virtual CR0.TS was set.
pub const DEVICE_NOT_AVAILABLE: u8 = 7;
/// General protection fault (#GP).
pub const GENERAL_PROTECTION: u8 = 13;
/// Page fault (#PF).
pub const PAGE_FAULT: u8 = 14;

/// Mnemonic and name of exception `vector`.
pub fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "#DE divide error",
        1 => "#DB debug",
        2 => "NMI",
        3 => "#BP breakpoint",
        4 => "#OF overflow",
        5 => "#BR bound range",
        6 => "#UD invalid opcode",
        7 => "#NM device not available",
        8 => "#DF double fault",
        10 => "#TS invalid TSS",
        11 => "#NP segment not present",
        12 => "#SS stack fault",
        13 => "#GP general protection",
        14 => "#PF page fault",
        16 => "#MF x87 floating point",
        17 => "#AC alignment check",
        18 => "#MC machine check",
        19 => "#XM SIMD floating point",
        20 => "#VE virtualization",
        21 => "#CP control protection",
        _ => "reserved vector",
    }
}
