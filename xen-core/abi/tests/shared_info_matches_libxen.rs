//! Conformance: `shared_info`, `vcpu_info`, `vcpu_time_info` and their
//! architecture parts equal those of `xen.h` and `arch-x86` (x86_64).

#[macro_use]
mod common;

use common::Probe;
use std::mem::size_of;
use xen_abi::shared_info::*;

#[test]
fn shared_info_layouts_match_the_xen_header() {
    let mut p = Probe::new(&["xen/xen.h", "xen/foreign/x86_64.h"]);
    layout!(p, "struct vcpu_time_info", VcpuTimeInfo {
        "version" => version,
        "pad0" => pad0,
        "tsc_timestamp" => tsc_timestamp,
        "system_time" => system_time,
        "tsc_to_system_mul" => tsc_to_system_mul,
        "tsc_shift" => tsc_shift,
        "flags" => flags,
        "pad1" => pad1,
    });
    layout!(p, "struct arch_vcpu_info", ArchVcpuInfo {
        "cr2" => cr2,
        "pad" => pad,
    });
    layout!(p, "struct vcpu_info", VcpuInfo {
        "evtchn_upcall_pending" => evtchn_upcall_pending,
        "evtchn_upcall_mask" => evtchn_upcall_mask,
        "evtchn_pending_sel" => evtchn_pending_sel,
        "arch" => arch,
        "arch.cr2" => arch.cr2,
        "arch.pad" => arch.pad,
        "time" => time,
        "time.system_time" => time.system_time,
    });
    layout!(p, "struct arch_shared_info", ArchSharedInfo {
        "max_pfn" => max_pfn,
        "pfn_to_mfn_frame_list_list" => pfn_to_mfn_frame_list_list,
        "nmi_reason" => nmi_reason,
        "p2m_cr3" => p2m_cr3,
        "p2m_vaddr" => p2m_vaddr,
        "p2m_generation" => p2m_generation,
    });
    layout!(p, "struct shared_info", SharedInfo {
        "vcpu_info" => vcpu_info,
        "evtchn_pending" => evtchn_pending,
        "evtchn_mask" => evtchn_mask,
        "wc_version" => wc_version,
        "wc_sec" => wc_sec,
        "wc_nsec" => wc_nsec,
        "wc_sec_hi" => wc_sec_hi,
        "arch" => arch,
        "arch.max_pfn" => arch.max_pfn,
        "arch.p2m_generation" => arch.p2m_generation,
    });
    // The explicitly sized copies in foreign/x86_64.h agree.
    p.value("sizeof(struct shared_info_x86_64)", size_of::<SharedInfo>());
    p.value("sizeof(struct vcpu_info_x86_64)", size_of::<VcpuInfo>());
    p.value("sizeof(struct vcpu_time_info_x86_64)", size_of::<VcpuTimeInfo>());
    p.value("sizeof(struct arch_vcpu_info_x86_64)", size_of::<ArchVcpuInfo>());
    p.value("sizeof(struct arch_shared_info_x86_64)", size_of::<ArchSharedInfo>());
    constants!(p,
        XEN_LEGACY_MAX_VCPUS,
        XEN_PVCLOCK_TSC_STABLE_BIT => PvclockFlags::TSC_STABLE.bits(),
        XEN_PVCLOCK_GUEST_STOPPED => PvclockFlags::GUEST_STOPPED.bits(),
    );
    p.run();
}
