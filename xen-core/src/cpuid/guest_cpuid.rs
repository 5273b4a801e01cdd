//! Which answer a CPUID leaf gets: the hypervisor's own range, or the
//! host's through the PV view.

use super::{CpuidContext, Leaf, hypervisor_leaves, pv_view};
use xen_abi::cpuid::XEN_CPUID_FIRST_LEAF;

/// The leaf a PV guest gets for `leaf` and `subleaf`; `host` runs the real
/// `cpuid`. The hypervisor range is answered for PV at both of Xen's bases
/// (`0x4000_0000` and `0x4000_0100`), everything else comes from the host
/// through the PV view.
pub fn guest_cpuid(host: &mut impl FnMut(u32, u32) -> Leaf, leaf: u32, subleaf: u32, context: &CpuidContext) -> Leaf {
    if (XEN_CPUID_FIRST_LEAF..XEN_CPUID_FIRST_LEAF + 0x200).contains(&leaf) {
        let index = (leaf - XEN_CPUID_FIRST_LEAF) % 0x100;
        // Only the first base holds leaves: 0x4000_01xx are zeros for PV.
        if leaf - XEN_CPUID_FIRST_LEAF >= 0x100 {
            return [0; 4];
        }
        return hypervisor_leaves::leaf(index, subleaf, host, context);
    }
    pv_view::leaf(host, leaf, subleaf, context.hardware_domain_kernel)
}
