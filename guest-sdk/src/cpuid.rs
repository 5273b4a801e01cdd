//! CPUID through Xen's forced-emulation prefix (`XEN_CPUID`,
//! `arch-x86/xen.h`): the hypervisor answers with the view it gives PV
//! guests, hypervisor leaves from `0x4000_0000` included. A plain `cpuid`
//! runs on the CPU and may show features a PV guest cannot use.

use xen_abi::cpuid::{XEN_CPUID_FIRST_LEAF, XEN_CPUID_SIGNATURE_EBX, XEN_CPUID_SIGNATURE_ECX, XEN_CPUID_SIGNATURE_EDX};

/// Leaf `leaf`, sub-leaf `subleaf`, as the hypervisor shows it: EAX, EBX,
/// ECX, EDX.
pub fn forced(leaf: u32, subleaf: u32) -> [u32; 4] {
    #[cfg(target_os = "none")]
    {
        crate::arch::cpuid::forced(leaf, subleaf)
    }
    #[cfg(not(target_os = "none"))]
    {
        let _ = (leaf, subleaf);
        [0; 4]
    }
}

/// Whether leaf `XEN_CPUID_FIRST_LEAF` says "XenVMMXenVMM"; its highest
/// leaf if so.
pub fn xen_leaves(first: [u32; 4]) -> Option<u32> {
    let [max, ebx, ecx, edx] = first;
    let signed = [ebx, ecx, edx]
        == [
            XEN_CPUID_SIGNATURE_EBX,
            XEN_CPUID_SIGNATURE_ECX,
            XEN_CPUID_SIGNATURE_EDX,
        ];
    (signed && max >= XEN_CPUID_FIRST_LEAF + 2).then_some(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xen_signature_is_recognised_and_nothing_else() {
        let xen = [0x4000_0005, 0x566e_6558, 0x6558_4d4d, 0x4d4d_566e];
        assert_eq!(xen_leaves(xen), Some(0x4000_0005));
        assert_eq!(xen_leaves([0x4000_0005, 0x4b4d_564b, 0x564b_4d56, 0x4d]), None, "KVM");
        assert_eq!(
            xen_leaves([0x4000_0001, xen[1], xen[2], xen[3]]),
            None,
            "too few leaves"
        );
    }
}
