//! Exceptions raised on purpose, for testing how they are delivered.

/// Length of the faulting instruction of [`divide_by_zero`] (`div %ecx`): a
/// handler that wants to resume moves `rip` past it.
pub const DIVIDE_INSTRUCTION_LENGTH: u64 = 2;

/// Executes a `div` by zero: #DE, vector 0.
pub fn divide_by_zero() {
    #[cfg(target_os = "none")]
    crate::arch::fault::divide_by_zero();
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
