//! Time as the guest can read it without help: the time-stamp counter.
//!
//! (System time from `vcpu_time_info` needs shared_info mapped, which needs
//! `update_va_mapping`: it comes with the PV MMU.)

/// Reads the time-stamp counter. Under QEMU with `-icount shift=0` it
/// advances exactly one tick per guest instruction.
pub fn rdtsc() -> u64 {
    #[cfg(target_os = "none")]
    {
        crate::arch::time::rdtsc()
    }
    #[cfg(not(target_os = "none"))]
    {
        0
    }
}
