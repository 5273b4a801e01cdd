//! `mov` from the control registers (emulated by the hypervisor).

/// CR0, CR2, CR3 and CR4.
pub fn read() -> [u64; 4] {
    let (cr0, cr2, cr3, cr4): (u64, u64, u64, u64);
    // SAFETY: reading control registers changes nothing; at CPL 3 each
    // raises #GP, which the hypervisor emulates for the guest kernel.
    unsafe {
        core::arch::asm!(
            "mov {}, cr0", "mov {}, cr2", "mov {}, cr3", "mov {}, cr4",
            out(reg) cr0, out(reg) cr2, out(reg) cr3, out(reg) cr4,
            options(nomem, nostack, preserves_flags)
        );
    }
    [cr0, cr2, cr3, cr4]
}
