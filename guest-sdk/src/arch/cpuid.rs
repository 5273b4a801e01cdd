//! The forced-emulation CPUID instruction.

/// `ud2; .ascii "xen"; cpuid` with EAX = `leaf`, ECX = `subleaf`.
pub fn forced(leaf: u32, subleaf: u32) -> [u32; 4] {
    let (eax, ebx, ecx, edx): (u32, u64, u32, u32);
    // SAFETY: the hypervisor emulates the prefixed CPUID (or delivers #UD,
    // which the guest's handler or a crash answers); it changes only the
    // four registers named here. RBX is LLVM's, so it goes through a
    // scratch register.
    unsafe {
        core::arch::asm!(
            "mov {scratch}, rbx",
            ".byte 0x0f, 0x0b, 0x78, 0x65, 0x6e",
            "cpuid",
            "xchg {scratch}, rbx",
            scratch = out(reg) ebx,
            inout("eax") leaf => eax,
            inout("ecx") subleaf => ecx,
            out("edx") edx,
            options(nostack, preserves_flags),
        );
    }
    [eax, ebx as u32, ecx, edx]
}
