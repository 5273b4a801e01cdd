//! The instructions behind `guest_sdk::fault`.

/// `div %ecx` with ECX = 0.
pub fn divide_by_zero() {
    // SAFETY: raises #DE; if a handler resumes past the `div`, only the
    // declared registers have changed.
    unsafe { core::arch::asm!("xor ecx, ecx", "div ecx", out("eax") _, out("ecx") _, out("edx") _) }
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
            "push 0xe023",          // FLAT_RING3_CS32
            "lea rax, [rip + 2f]",
            "push rax",
            "retfq",
            ".code32",
            "2:",
            "syscall",
            "ud2",
            ".code64",
            out("rax") _,
        )
    }
}
