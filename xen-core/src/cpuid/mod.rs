//! CPUID as a PV guest sees it: the host's leaves with what a PV guest must
//! not use hidden (Xen's PV CPUID policy), and the hypervisor's own leaves
//! from `0x4000_0000` (`arch-x86/cpuid.h`). Guests ask through the
//! forced-emulation prefix (`crate::domain::forced_emulation`).

mod guest_cpuid;
pub mod hypervisor_leaves;
pub mod pv_view;

pub use guest_cpuid::guest_cpuid;

#[cfg(test)]
mod tests;

use crate::time::time_scale::TimeScale;

/// EAX, EBX, ECX and EDX, as one CPUID leaf returns them.
pub type Leaf = [u32; 4];

/// What the answers depend on besides the host's own leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuidContext {
    /// The interface version `xen_version` reports: (major, minor).
    pub version: (u32, u32),
    /// The TSC's scale to nanoseconds (`vcpu_time_info`).
    pub tsc_scale: TimeScale,
    /// The highest machine frame number.
    pub max_mfn: u64,
    /// The asker is the hardware domain's kernel (dom0 in kernel mode),
    /// which Xen shows a little more (MTRR).
    pub hardware_domain_kernel: bool,
}
