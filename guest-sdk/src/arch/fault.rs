//! The instructions behind `guest_sdk::fault`.

use xen_abi::trap::FLAT_RING3_CS32;

/// `div %ecx` with ECX = 0.
pub fn divide_by_zero() {
    // SAFETY: raises #DE; if a handler resumes past the `div`, only the
    // declared registers have changed.
    unsafe { core::arch::asm!("xor ecx, ecx", "div ecx", out("eax") _, out("ecx") _, out("edx") _) }
}

/// `mov %rsi, (%rdi)`, three bytes (`STORE_INSTRUCTION_LENGTH`).
pub fn store_u64(address: u64, value: u64) {
    // SAFETY: the caller names a page-table entry of its own, mapped
    // read-only: the store faults, and either the hypervisor applies it
    // as the same mmu_update would or the guest's #PF handler skips it.
    // Nothing Rust holds a reference to is written.
    unsafe {
        core::arch::asm!(
            ".byte 0x48, 0x89, 0x37",
            in("rdi") address,
            in("rsi") value,
            options(nostack, preserves_flags)
        )
    }
}

/// `int3`.
pub fn breakpoint() {
    // SAFETY: raises #BP after the instruction; nothing else changes.
    unsafe { core::arch::asm!("int3") }
}

/// `fninit`.
pub fn fpu_instruction() {
    // SAFETY: resets the x87 state, which nothing in the guest relies on
    // (soft-float target); with CR0.TS set it raises #NM first.
    unsafe { core::arch::asm!("fninit") }
}

/// Adds two integers through the SSE registers (`movd`, `paddd`).
pub fn sse_sum(a: u32, b: u32) -> u32 {
    let result: u32;
    // SAFETY: uses xmm0 and xmm1, declared clobbered; the guest has no other
    // SSE state (soft-float target).
    unsafe {
        core::arch::asm!(
            "movd xmm0, {a:e}",
            "movd xmm1, {b:e}",
            "paddd xmm0, xmm1",
            "movd {r:e}, xmm0",
            a = in(reg) a,
            b = in(reg) b,
            r = lateout(reg) result,
            out("xmm0") _,
            out("xmm1") _,
        );
    }
    result
}

/// Far-returns to the 32-bit code selector and runs `syscall` there.
pub fn compat_mode_syscall() {
    // SAFETY: deliberately hostile; the hypervisor must end the domain. If
    // it returned to the 32-bit code instead, `ud2` stops it there.
    unsafe {
        core::arch::asm!(
            "push {cs32}",
            "lea rax, [rip + 2f]",
            "push rax",
            "retfq",
            ".code32",
            "2:",
            "syscall",
            "ud2",
            ".code64",
            cs32 = const FLAT_RING3_CS32,
            out("rax") _,
        )
    }
}

/// Sets RFLAGS.TF: the CPU traps (#DB) after each following instruction.
pub fn set_trap_flag() {
    // SAFETY: changes only TF, through the stack, which `pushfq`/`popfq`
    // leave as they found it.
    unsafe { core::arch::asm!("pushfq", "or qword ptr [rsp], 0x100", "popfq") }
}

/// Clears RFLAGS.TF (the `popfq` still traps, as TF was set when it began).
pub fn clear_trap_flag() {
    // SAFETY: as for `set_trap_flag`.
    unsafe { core::arch::asm!("pushfq", "and qword ptr [rsp], -0x101", "popfq") }
}

/// Defines a function that, with TF set, reloads SS with its own value and
/// enters the hypervisor at once with `$entry` for hypercall `number`, then
/// clears TF; it returns RAX.
macro_rules! mov_ss_then {
    ($(#[$doc:meta])* $name:ident, $entry:literal) => {
        $(#[$doc])*
        pub fn $name(number: u32, args: [u64; 5]) -> i64 {
            let result: i64;
            // SAFETY: reloads SS with its own value; the entry is a hypercall
            // like the stubs' (`syscall` destroys RCX and R11, and the
            // argument registers may change), all declared; TF is set and
            // cleared through the stack as in `set_trap_flag`.
            unsafe {
                core::arch::asm!(
                    "pushfq",
                    "or qword ptr [rsp], 0x100",
                    "popfq",
                    "mov {selector:x}, ss",
                    "mov ss, {selector:x}",
                    $entry,
                    "pushfq",
                    "and qword ptr [rsp], -0x101",
                    "popfq",
                    selector = out(reg) _,
                    inlateout("rax") u64::from(number) => result,
                    inlateout("rdi") args[0] => _,
                    inlateout("rsi") args[1] => _,
                    inlateout("rdx") args[2] => _,
                    inlateout("r10") args[3] => _,
                    inlateout("r8") args[4] => _,
                    out("rcx") _,
                    out("r11") _,
                )
            }
            result
        }
    };
}

mov_ss_then!(
    /// `mov ss` then `syscall`, single-stepped.
    mov_ss_then_syscall,
    "syscall"
);
mov_ss_then!(
    /// `mov ss` then `int 0x82`, single-stepped.
    mov_ss_then_int82,
    "int 0x82"
);
