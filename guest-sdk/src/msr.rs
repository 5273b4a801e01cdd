//! Model-specific registers as a PV guest kernel reads them: `rdmsr` faults
//! at CPL 3 and the hypervisor answers with what it shows PV guests.

/// `rdmsr` of `msr`. The hypervisor answers or raises #GP (a guest with
/// no #GP handler reads 0 from an MSR it does not know, as on Xen).
pub fn read(msr: u32) -> u64 {
    #[cfg(target_os = "none")]
    {
        crate::arch::msr::read(msr)
    }
    #[cfg(not(target_os = "none"))]
    {
        let _ = msr;
        0
    }
}
