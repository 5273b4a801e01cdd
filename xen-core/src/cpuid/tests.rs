//! The PV CPUID view over a fake host that has every feature.

use super::*;
use xen_abi::cpuid::*;

/// A host with every bit set in every leaf it has: basic leaves up to 0x16,
/// extended up to 0x8000_0008.
fn everything(leaf: u32, _subleaf: u32) -> Leaf {
    match leaf {
        0 => [0x16, 0x756e_6547, 0x6c65_746e, 0x4965_6e69],
        0x8000_0000 => [0x8000_0008, 0, 0, 0],
        _ => [u32::MAX; 4],
    }
}

const CONTEXT: CpuidContext = CpuidContext {
    version: (4, 17),
    tsc_scale: TimeScale {
        mul: 0x8000_0000,
        shift: 1,
    },
    max_mfn: 0x7fff,
    hardware_domain_kernel: false,
};

fn ask(leaf: u32, subleaf: u32) -> Leaf {
    guest_cpuid(&mut everything, leaf, subleaf, &CONTEXT)
}

#[test]
fn the_hypervisor_leaves_say_xen_4_17_with_one_hypercall_page() {
    assert_eq!(
        ask(XEN_CPUID_FIRST_LEAF, 0),
        [0x4000_0005, 0x566e_6558, 0x6558_4d4d, 0x4d4d_566e],
        "\"XenVMMXenVMM\", five leaves after the first"
    );
    assert_eq!(ask(0x4000_0001, 0), [0x0004_0011, 0, 0, 0]);
    assert_eq!(ask(0x4000_0002, 0), [1, 0x4000_0000, 1, 0]);
    assert_eq!(ask(0x4000_0004, 0), [0; 4], "HVM's leaf");
    assert_eq!(ask(0x4000_0005, 0), [0, 15 + 12, 0, 0], "frame 0x7fff: 27 bits");
    assert_eq!(ask(0x4000_0006, 0), [0; 4]);
    assert_eq!(ask(0x4000_0100, 0), [0; 4], "no second base for PV");
}

#[test]
fn the_tsc_leaf_gives_the_frequency_its_scale_implies() {
    // A tick of 0x8000_0000 * 2 / 2^32 = 1 ns: 1 GHz, 1,000,000 kHz.
    let [flags, mode, khz, _] = ask(0x4000_0003, 0);
    assert_eq!((flags, mode, khz), (2, 0, 1_000_000), "invariant TSC, native mode");
    assert_eq!(ask(0x4000_0003, 1), [0, 0, 0x8000_0000, 1]);
    assert_eq!(ask(0x4000_0003, 2)[0], 1_000_000);
}

#[test]
fn features_a_pv_guest_cannot_use_are_hidden_and_the_hypervisor_bit_set() {
    let [eax, ebx, ecx, edx] = ask(1, 0);
    assert_eq!(eax & 0x3000, 0, "no processor type");
    assert_eq!(ebx >> 24, 0, "APIC ID 0");
    for (bit, name) in [(1, "VME"), (3, "PSE"), (12, "MTRR"), (13, "PGE"), (17, "PSE36")] {
        assert_eq!(edx & (1 << bit), 0, "{name}");
    }
    for (bit, name) in [
        (3, "MONITOR"),
        (5, "VMX"),
        (17, "PCID"),
        (24, "TSC deadline"),
        (27, "OSXSAVE"),
    ] {
        assert_eq!(ecx & (1 << bit), 0, "{name}");
    }
    assert_ne!(ecx & (1 << 31), 0, "hypervisor");
    assert_ne!(edx & (1 << 25), 0, "SSE stays");
    let [_, ebx7, ecx7, _] = ask(7, 0);
    assert_eq!(ebx7 & (1 << 7 | 1 << 20), 0, "SMEP and SMAP");
    assert_eq!(ecx7 & (1 << 3), 0, "PKU");
    let [_, _, ecx_ext, edx_ext] = ask(0x8000_0001, 0);
    assert_eq!(edx_ext & (1 << 26), 0, "1 GiB pages");
    assert_eq!(ecx_ext & (1 << 2), 0, "SVM");
    assert_ne!(edx_ext & (1 << 29), 0, "long mode stays");
}

#[test]
fn leaves_past_the_limits_and_the_power_leaves_are_empty() {
    assert_eq!(ask(0, 0)[0], 0xd, "basic leaves capped at 0xd");
    assert_eq!(ask(0xe, 0), [0; 4]);
    assert_eq!(ask(5, 0), [0; 4], "MONITOR");
    assert_eq!(ask(6, 0), [0; 4], "thermal and power");
    assert_eq!(ask(0xb, 0), [0; 4], "topology");
    assert_eq!(ask(0x8000_0009, 0), [0; 4], "past the extended maximum");
    assert_eq!(ask(0x8000_0002, 0), [u32::MAX; 4], "the brand string passes through");
}

/// An AMD host with every feature, basic leaves up to 0xd, extended up to
/// 0x8000_000a.
fn amd(leaf: u32, _subleaf: u32) -> Leaf {
    match leaf {
        0 => [0xd, 0x6874_7541, 0x444d_4163, 0x6974_6e65],
        0x8000_0000 => [0x8000_000a, 0, 0, 0],
        _ => [u32::MAX; 4],
    }
}

#[test]
fn on_amd_sep_is_hidden_and_lfence_is_said_to_serialise() {
    let ask = |leaf| guest_cpuid(&mut amd, leaf, 0, &CONTEXT);
    assert_eq!(ask(1)[3] & (1 << 11), 0, "SEP: no sysenter in 64-bit mode on AMD");
    assert_eq!(ask(0x8000_0000)[0], 0x8000_0021);
    assert_eq!(
        ask(0x8000_0021),
        [1 << 2, 0, 0, 0],
        "beyond the host's leaves, Xen's own"
    );
    assert_eq!(ask(0x8000_0010), [0; 4], "the host has no such leaf");
    let [_, _, _, edx] = ask(0x8000_0001);
    for (bit, name) in [(3, "PSE"), (12, "MTRR"), (13, "PGE"), (17, "PSE36")] {
        assert_eq!(edx & (1 << bit), 0, "{name} in the extended copy of leaf 1");
    }
}

#[test]
fn the_hardware_domains_kernel_sees_mtrr() {
    let dom0 = CpuidContext {
        hardware_domain_kernel: true,
        ..CONTEXT
    };
    assert_ne!(guest_cpuid(&mut amd, 1, 0, &dom0)[3] & (1 << 12), 0);
    assert_ne!(guest_cpuid(&mut amd, 0x8000_0001, 0, &dom0)[3] & (1 << 12), 0);
    assert_eq!(
        guest_cpuid(&mut amd, 1, 0, &CONTEXT)[3] & (1 << 12),
        0,
        "a domU does not"
    );
}
