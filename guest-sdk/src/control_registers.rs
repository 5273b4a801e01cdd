//! Reading the control registers: a PV guest kernel's `mov %crN` is
//! emulated by the hypervisor, which shows its own CR0 and CR4, the
//! guest's CR2 and the frame of its kernel page-table base in CR3.

/// CR0, CR2, CR3 and CR4, in that order.
pub fn read() -> [u64; 4] {
    #[cfg(target_os = "none")]
    {
        crate::arch::control_registers::read()
    }
    #[cfg(not(target_os = "none"))]
    {
        [0; 4]
    }
}
