//! Exceptions raised on purpose, for testing how they are delivered.

/// Length of the faulting instruction of [`divide_by_zero`] (`div %ecx`): a
/// handler that wants to resume moves `rip` past it.
pub const DIVIDE_INSTRUCTION_LENGTH: u64 = 2;

/// Executes a `div` by zero: #DE, vector 0.
pub fn divide_by_zero() {
    #[cfg(target_os = "none")]
    crate::arch::fault::divide_by_zero();
}

/// Length of the store of [`store_u64`] (`mov %rsi, (%rdi)`): a page-fault
/// handler that wants to go on moves `rip` past it.
pub const STORE_INSTRUCTION_LENGTH: u64 = 3;

/// Stores `value` at `address` with one `mov %rsi, (%rdi)`, faulting as
/// the CPU decides (a read-only page table: the hypervisor's writable
/// page-table emulation, or a #PF for the guest's handler).
pub fn store_u64(address: u64, value: u64) {
    #[cfg(target_os = "none")]
    crate::arch::fault::store_u64(address, value);
    #[cfg(not(target_os = "none"))]
    let _ = (address, value);
}

/// Executes `int3`: #BP, vector 3, delivered after the instruction.
pub fn breakpoint() {
    #[cfg(target_os = "none")]
    crate::arch::fault::breakpoint();
}

/// Executes an x87 instruction (`fninit`): #NM, vector 7, while the virtual
/// CR0.TS is set (see [`crate::hypercall::fpu_taskswitch`]).
pub fn fpu_instruction() {
    #[cfg(target_os = "none")]
    crate::arch::fault::fpu_instruction();
}

/// Executes SSE instructions (`xorps`, `addps`) and returns a value computed
/// with them: #UD if the hypervisor left SSE off.
pub fn sse_sum(a: u32, b: u32) -> u32 {
    #[cfg(target_os = "none")]
    {
        crate::arch::fault::sse_sum(a, b)
    }
    #[cfg(not(target_os = "none"))]
    {
        a.wrapping_add(b)
    }
}

/// Switches to 32-bit (compatibility mode) code and executes `syscall` there,
/// as an attacker probing CSTAR would. Only meaningful in a guest linked
/// below 4 GiB (`DEP_GUEST_SDK_LINKER_SCRIPT_LOW`): 32-bit code runs at a
/// 32-bit address. Does not return if the hypervisor handles it right.
pub fn compat_mode_syscall() {
    #[cfg(target_os = "none")]
    crate::arch::fault::compat_mode_syscall();
}

/// Sets RFLAGS.TF: from the instruction after next, each instruction is
/// followed by a #DB (vector 1) for the guest's handler.
pub fn set_trap_flag() {
    #[cfg(target_os = "none")]
    crate::arch::fault::set_trap_flag();
}

/// Clears RFLAGS.TF; the instruction that clears it still traps.
pub fn clear_trap_flag() {
    #[cfg(target_os = "none")]
    crate::arch::fault::clear_trap_flag();
}

/// How [`mov_ss_then_hypercall`] enters the hypervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HypercallEntry {
    /// `syscall`, as the hypercall page's stubs do.
    Syscall,
    /// The `int 0x82` gate (xen-core's; real Xen keeps it for 32-bit guests).
    Int82,
}

/// Single-steps `mov ss` (to its own value) followed at once by hypercall
/// `number` through `entry`, then clears TF; returns the hypercall's RAX.
///
/// The CVE-2018-8897 (XSA-260) shape: on hardware, the #DB that `mov ss`
/// owes is held back past the next instruction and so arrives on the first
/// instruction of the hypervisor's entry, in ring 0 (after `syscall`, with
/// RSP still the guest's). QEMU's TCG delivers it right after the `mov ss`.
pub fn mov_ss_then_hypercall(entry: HypercallEntry, number: u32, args: [u64; 5]) -> i64 {
    #[cfg(target_os = "none")]
    {
        match entry {
            HypercallEntry::Syscall => crate::arch::fault::mov_ss_then_syscall(number, args),
            HypercallEntry::Int82 => crate::arch::fault::mov_ss_then_int82(number, args),
        }
    }
    #[cfg(not(target_os = "none"))]
    {
        let _ = (entry, number, args);
        xen_abi::errno::Errno::ENOSYS.as_return()
    }
}
