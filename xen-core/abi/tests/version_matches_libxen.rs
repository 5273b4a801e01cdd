//! Conformance: `xen_version` commands, result types and feature numbers equal
//! those of `version.h` and `features.h`.

#[macro_use]
mod common;

use common::Probe;
use std::mem::size_of;
use xen_abi::version::*;

#[test]
fn version_layouts_match_the_xen_header() {
    let mut p = Probe::new(&["xen/version.h"]);
    p.value("sizeof(xen_extraversion_t)", size_of::<XenExtraversion>());
    p.value("sizeof(xen_capabilities_info_t)", size_of::<XenCapabilitiesInfo>());
    p.value("sizeof(xen_changeset_info_t)", size_of::<XenChangesetInfo>());
    p.value("sizeof(xen_commandline_t)", size_of::<XenCommandline>());
    p.value("sizeof(xen_commandline_t)", XEN_COMMANDLINE_LEN);
    layout!(p, "struct xen_compile_info", XenCompileInfo {
        "compiler" => compiler,
        "compile_by" => compile_by,
        "compile_domain" => compile_domain,
        "compile_date" => compile_date,
    });
    layout!(p, "struct xen_platform_parameters", XenPlatformParameters {
        "virt_start" => virt_start,
    });
    layout!(p, "struct xen_feature_info", XenFeatureInfo {
        "submap_idx" => submap_idx,
        "submap" => submap,
    });
    p.run();
}

#[test]
fn version_numbers_match_the_xen_headers() {
    let mut p = Probe::new(&["xen/version.h"]);
    constants!(p,
        XENVER_version => XENVER_VERSION,
        XENVER_extraversion => XENVER_EXTRAVERSION,
        XENVER_compile_info => XENVER_COMPILE_INFO,
        XENVER_capabilities => XENVER_CAPABILITIES,
        XENVER_changeset => XENVER_CHANGESET,
        XENVER_platform_parameters => XENVER_PLATFORM_PARAMETERS,
        XENVER_get_features => XENVER_GET_FEATURES,
        XENVER_pagesize => XENVER_PAGESIZE,
        XENVER_guest_handle => XENVER_GUEST_HANDLE,
        XENVER_commandline => XENVER_COMMANDLINE,
        XENVER_build_id => XENVER_BUILD_ID,
        XEN_EXTRAVERSION_LEN,
        XEN_CAPABILITIES_INFO_LEN,
        XEN_CHANGESET_INFO_LEN,
        XENFEAT_NR_SUBMAPS,
        XENFEAT_writable_page_tables => XENFEAT_WRITABLE_PAGE_TABLES,
        XENFEAT_writable_descriptor_tables => XENFEAT_WRITABLE_DESCRIPTOR_TABLES,
        XENFEAT_auto_translated_physmap => XENFEAT_AUTO_TRANSLATED_PHYSMAP,
        XENFEAT_supervisor_mode_kernel => XENFEAT_SUPERVISOR_MODE_KERNEL,
        XENFEAT_pae_pgdir_above_4gb => XENFEAT_PAE_PGDIR_ABOVE_4GB,
        XENFEAT_mmu_pt_update_preserve_ad => XENFEAT_MMU_PT_UPDATE_PRESERVE_AD,
        XENFEAT_highmem_assist => XENFEAT_HIGHMEM_ASSIST,
        XENFEAT_gnttab_map_avail_bits => XENFEAT_GNTTAB_MAP_AVAIL_BITS,
        XENFEAT_hvm_callback_vector => XENFEAT_HVM_CALLBACK_VECTOR,
        XENFEAT_hvm_safe_pvclock => XENFEAT_HVM_SAFE_PVCLOCK,
        XENFEAT_hvm_pirqs => XENFEAT_HVM_PIRQS,
        XENFEAT_dom0 => XENFEAT_DOM0,
        XENFEAT_memory_op_vnode_supported => XENFEAT_MEMORY_OP_VNODE_SUPPORTED,
        XENFEAT_ARM_SMCCC_supported => XENFEAT_ARM_SMCCC_SUPPORTED,
        XENFEAT_linux_rsdp_unrestricted => XENFEAT_LINUX_RSDP_UNRESTRICTED,
        XENFEAT_not_direct_mapped => XENFEAT_NOT_DIRECT_MAPPED,
        XENFEAT_direct_mapped => XENFEAT_DIRECT_MAPPED,
    );
    p.run();
}
