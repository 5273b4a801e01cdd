//! The host's CPUID leaves as Xen 4.17 shows them to a 64-bit PV guest by
//! default: features a guest kernel in ring 3 cannot use, or that only HVM
//! guests get, are hidden; leaves about power management, monitoring and
//! topology are empty; the hypervisor bit is set.

use super::Leaf;

/// Leaf 1 EDX: VME, PSE, MTRR, PGE, PSE36, DS, TM1, PBE.
const LEAF1_EDX_HIDDEN: u32 = 1 << 1 | 1 << 3 | 1 << 12 | 1 << 13 | 1 << 17 | 1 << 21 | 1 << 29 | 1 << 31;
/// Leaf 1 ECX: DTES64, MONITOR, DS-CPL, VMX, SMX, EIST, TM2, xTPR, PDCM,
/// PCID, DCA, TSC-deadline, OSXSAVE (the guest's own CR4, which starts
/// without it).
const LEAF1_ECX_HIDDEN: u32 = 1 << 2
    | 1 << 3
    | 1 << 4
    | 1 << 5
    | 1 << 6
    | 1 << 7
    | 1 << 8
    | 1 << 14
    | 1 << 15
    | 1 << 17
    | 1 << 18
    | 1 << 24
    | 1 << 27;
/// Leaf 1 ECX: running on a hypervisor.
const HYPERVISOR: u32 = 1 << 31;
/// Leaf 7.0 EBX: TSC_ADJUST, SGX, SMEP, INVPCID, PQM, MPX, PQE, SMAP,
/// PROC_TRACE.
const LEAF7_EBX_HIDDEN: u32 = 1 << 1 | 1 << 2 | 1 << 7 | 1 << 10 | 1 << 12 | 1 << 14 | 1 << 15 | 1 << 20 | 1 << 25;
/// Leaf 7.0 ECX: UMIP, PKU, OSPKE, CET shadow stacks, ENQCMD.
const LEAF7_ECX_HIDDEN: u32 = 1 << 2 | 1 << 3 | 1 << 4 | 1 << 7 | 1 << 29;
/// Leaf 7.0 EDX: CET-IBT, L1D_FLUSH.
const LEAF7_EDX_HIDDEN: u32 = 1 << 20 | 1 << 28;
/// Leaf 0x8000_0001 EDX: 1 GiB pages.
const EXT1_EDX_HIDDEN: u32 = 1 << 26;
/// Leaf 0x8000_0001 ECX: SVM, extended APIC space, CR8 in 32-bit mode,
/// OSVW, IBS, SKINIT, WDT, LWP, NodeId, TOPOEXT, MONITORX.
const EXT1_ECX_HIDDEN: u32 =
    1 << 2 | 1 << 3 | 1 << 4 | 1 << 9 | 1 << 10 | 1 << 12 | 1 << 13 | 1 << 15 | 1 << 19 | 1 << 22 | 1 << 29;
/// Leaf 1 EDX: SEP, which AMD processors do not support in 64-bit mode.
const SEP: u32 = 1 << 11;
/// Leaf 1 and 0x8000_0001 EDX: MTRR, shown to the hardware domain's kernel.
const MTRR: u32 = 1 << 12;
/// Leaf 0x8000_0021 EAX: LFENCE is dispatch-serialising, which Xen makes
/// it on AMD processors and says so.
const LFENCE_DISPATCH: u32 = 1 << 2;
/// The highest extended leaf Xen shows on AMD processors.
const AMD_MAX_EXTENDED_LEAF: u32 = 0x8000_0021;
/// The leaf 1 EDX bits AMD repeats in leaf 0x8000_0001 EDX (FPU to PAT,
/// PSE36, MMX, FXSR); the others mean something else there (LM is 29).
const COMMON_EDX: u32 = 0x0183_f3ff;
/// The highest basic leaf a PV guest is shown.
const MAX_BASIC_LEAF: u32 = 0xd;

/// Leaf `leaf`, sub-leaf `subleaf`, of the host (`host` runs `cpuid`) as
/// a PV guest sees it; `hardware_domain_kernel` for dom0's kernel, which
/// Xen shows MTRR.
pub fn leaf(host: &mut impl FnMut(u32, u32) -> Leaf, leaf: u32, subleaf: u32, hardware_domain_kernel: bool) -> Leaf {
    let [host_max_basic, vendor, ..] = host(0, 0);
    let amd = matches!(vendor, 0x6874_7541 | 0x6f67_7948); // "Auth", "Hygo"
    let max_basic = host_max_basic.min(MAX_BASIC_LEAF);
    let host_max_extended = host(0x8000_0000, 0)[0];
    let max_extended = if amd {
        host_max_extended.max(AMD_MAX_EXTENDED_LEAF)
    } else {
        host_max_extended
    };
    let in_range = if leaf < 0x8000_0000 {
        leaf <= max_basic
    } else {
        leaf <= max_extended
    };
    if !in_range {
        return [0; 4];
    }
    let [eax, ebx, ecx, edx] = if leaf < 0x8000_0000 || leaf <= host_max_extended {
        host(leaf, subleaf)
    } else {
        [0; 4]
    };
    let edx_hidden = LEAF1_EDX_HIDDEN & !if hardware_domain_kernel { MTRR } else { 0 };
    match leaf {
        0 => [max_basic, ebx, ecx, edx],
        // Processor type cleared; the initial APIC ID is 0 (vCPU 0).
        1 => [
            eax & 0x0fff_0fff,
            ebx & 0x00ff_ffff,
            (ecx & !LEAF1_ECX_HIDDEN) | HYPERVISOR,
            edx & !edx_hidden & !if amd { SEP } else { 0 },
        ],
        // Monitor/mwait, thermal and power, DCA, performance monitoring,
        // topology: nothing a PV guest may use or rely on.
        3 | 5 | 6 | 8 | 9 | 0xa | 0xb | 0xc => [0; 4],
        7 if subleaf == 0 => [
            eax,
            ebx & !LEAF7_EBX_HIDDEN,
            ecx & !LEAF7_ECX_HIDDEN,
            edx & !LEAF7_EDX_HIDDEN,
        ],
        0x8000_0000 => [max_extended, ebx, ecx, edx],
        // AMD repeats leaf 1's EDX bits here: hidden the same way.
        0x8000_0001 => [
            eax,
            ebx,
            ecx & !EXT1_ECX_HIDDEN,
            edx & !EXT1_EDX_HIDDEN & !(edx_hidden & COMMON_EDX),
        ],
        // SVM's own leaf.
        0x8000_000a => [0; 4],
        0x8000_0021 if amd => [eax | LFENCE_DISPATCH, 0, 0, 0],
        _ => [eax, ebx, ecx, edx],
    }
}
