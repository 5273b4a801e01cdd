//! Conformance: the hypervisor CPUID leaves' numbers and values equal those
//! of `arch-x86/cpuid.h`.

#[macro_use]
mod common;

use common::Probe;
use xen_abi::cpuid::*;

#[test]
fn cpuid_leaves_match_the_xen_header() {
    let mut p = Probe::new(&["xen/xen.h", "xen/arch-x86/cpuid.h"]);
    constants!(
        p,
        XEN_CPUID_FIRST_LEAF,
        XEN_CPUID_MAX_NUM_LEAVES,
        XEN_CPUID_SIGNATURE_EBX,
        XEN_CPUID_SIGNATURE_ECX,
        XEN_CPUID_SIGNATURE_EDX,
        XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD,
        XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK,
    );
    p.run();
}
