//! Conformance: `start_info`, its console union, SIF flags and the multiboot
//! module list equal those of `xen.h` (x86_64).

#[macro_use]
mod common;

use common::Probe;
use std::mem::{offset_of, size_of};
use xen_abi::start_info::*;

#[test]
fn start_info_layout_matches_the_xen_header() {
    let mut p = Probe::new(&["xen/xen.h", "xen/foreign/x86_64.h"]);
    layout!(p, "struct start_info", StartInfo {
        "magic" => magic,
        "nr_pages" => nr_pages,
        "shared_info" => shared_info,
        "flags" => flags,
        "store_mfn" => store_mfn,
        "store_evtchn" => store_evtchn,
        "console" => console,
        "pt_base" => pt_base,
        "nr_pt_frames" => nr_pt_frames,
        "mfn_list" => mfn_list,
        "mod_start" => mod_start,
        "mod_len" => mod_len,
        "cmd_line" => cmd_line,
        "first_p2m_pfn" => first_p2m_pfn,
        "nr_p2m_frames" => nr_p2m_frames,
    });
    let console = offset_of!(StartInfo, console);
    view!(p, "struct start_info", "console.domU", console, ConsoleDomU {
        "mfn" => mfn,
        "evtchn" => evtchn,
    });
    view!(p, "struct start_info", "console.dom0", console, ConsoleDom0 {
        "info_off" => info_off,
        "info_size" => info_size,
    });
    // The explicitly sized copy in foreign/x86_64.h agrees.
    p.value("sizeof(struct start_info_x86_64)", size_of::<StartInfo>());
    p.value("MAX_GUEST_CMDLINE", MAX_GUEST_CMDLINE);
    layout!(p, "struct xen_multiboot_mod_list", XenMultibootModList {
        "mod_start" => mod_start,
        "mod_end" => mod_end,
        "cmdline" => cmdline,
        "pad" => pad,
    });
    p.run();
}

#[test]
fn start_info_flags_match_the_xen_header() {
    let mut p = Probe::new(&["xen/xen.h"]);
    constants!(p,
        SIF_PRIVILEGED => SifFlags::PRIVILEGED.bits(),
        SIF_INITDOMAIN => SifFlags::INITDOMAIN.bits(),
        SIF_MULTIBOOT_MOD => SifFlags::MULTIBOOT_MOD.bits(),
        SIF_MOD_START_PFN => SifFlags::MOD_START_PFN.bits(),
        SIF_VIRT_P2M_4TOOLS => SifFlags::VIRT_P2M_4TOOLS.bits(),
        SIF_PM_MASK => SifFlags::PM_MASK.bits(),
    );
    p.run();
}
