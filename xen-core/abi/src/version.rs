//! `xen_version` sub-operations of `version.h` and the feature bits of
//! `features.h`.
//!
//! `xen_version` takes a command in RDI and, for most commands, a buffer in
//! RSI of the command's result type.

use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Returns `(major << 16) | minor`; no buffer.
pub const XENVER_VERSION: u32 = 0;
/// Fills an [`XenExtraversion`].
pub const XENVER_EXTRAVERSION: u32 = 1;
/// Fills an [`XenCompileInfo`].
pub const XENVER_COMPILE_INFO: u32 = 2;
/// Fills an [`XenCapabilitiesInfo`].
pub const XENVER_CAPABILITIES: u32 = 3;
/// Fills an [`XenChangesetInfo`].
pub const XENVER_CHANGESET: u32 = 4;
/// Fills an [`XenPlatformParameters`].
pub const XENVER_PLATFORM_PARAMETERS: u32 = 5;
/// Fills an [`XenFeatureInfo`].
pub const XENVER_GET_FEATURES: u32 = 6;
/// Returns the page size; no buffer.
pub const XENVER_PAGESIZE: u32 = 7;
/// Fills the 16-byte handle the toolstack gave the domain.
pub const XENVER_GUEST_HANDLE: u32 = 8;
/// Fills an [`XenCommandline`] (privileged).
pub const XENVER_COMMANDLINE: u32 = 9;
/// Fills a build-id record (privileged).
pub const XENVER_BUILD_ID: u32 = 10;

/// `XEN_EXTRAVERSION_LEN`: size of `xen_extraversion_t`.
pub const XEN_EXTRAVERSION_LEN: usize = 16;
/// `XEN_CAPABILITIES_INFO_LEN`: size of `xen_capabilities_info_t`.
pub const XEN_CAPABILITIES_INFO_LEN: usize = 1024;
/// `XEN_CHANGESET_INFO_LEN`: size of `xen_changeset_info_t`.
pub const XEN_CHANGESET_INFO_LEN: usize = 64;
/// Size of `xen_commandline_t`.
pub const XEN_COMMANDLINE_LEN: usize = 1024;

/// `xen_extraversion_t`: NUL-terminated version suffix, e.g. ".0".
pub type XenExtraversion = [u8; XEN_EXTRAVERSION_LEN];
/// `xen_capabilities_info_t`: space-separated guest types, e.g. "xen-3.0-x86_64".
pub type XenCapabilitiesInfo = [u8; XEN_CAPABILITIES_INFO_LEN];
/// `xen_changeset_info_t`: NUL-terminated source revision.
pub type XenChangesetInfo = [u8; XEN_CHANGESET_INFO_LEN];
/// `xen_commandline_t`: the hypervisor's NUL-terminated command line.
pub type XenCommandline = [u8; XEN_COMMANDLINE_LEN];

/// `struct xen_compile_info` (144 bytes): NUL-terminated build strings.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenCompileInfo {
    /// Compiler name and version.
    pub compiler: [u8; 64],
    /// User who built the hypervisor.
    pub compile_by: [u8; 16],
    /// Domain of the build host.
    pub compile_domain: [u8; 32],
    /// Build date.
    pub compile_date: [u8; 32],
}

/// `struct xen_platform_parameters` (8 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenPlatformParameters {
    /// Lowest virtual address the hypervisor reserves.
    pub virt_start: u64,
}

/// `struct xen_feature_info` (8 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenFeatureInfo {
    /// In: which 32-bit word of feature bits to return.
    pub submap_idx: u32,
    /// Out: that word; bit `n` is feature `32 * submap_idx + n`.
    pub submap: u32,
}

/// `XENFEAT_NR_SUBMAPS`: number of 32-bit feature words.
pub const XENFEAT_NR_SUBMAPS: u32 = 1;

/// Feature: the guest may write its page tables directly (emulated).
pub const XENFEAT_WRITABLE_PAGE_TABLES: u32 = 0;
/// Feature: the guest may write its descriptor tables directly.
pub const XENFEAT_WRITABLE_DESCRIPTOR_TABLES: u32 = 1;
/// Feature: the guest sees translated (pseudo-physical) frame numbers.
pub const XENFEAT_AUTO_TRANSLATED_PHYSMAP: u32 = 2;
/// Feature: the guest kernel runs in ring 0.
pub const XENFEAT_SUPERVISOR_MODE_KERNEL: u32 = 3;
/// Feature: PAE page directories may sit above 4GB.
pub const XENFEAT_PAE_PGDIR_ABOVE_4GB: u32 = 4;
/// Feature: `MMU_PT_UPDATE_PRESERVE_AD` is available.
pub const XENFEAT_MMU_PT_UPDATE_PRESERVE_AD: u32 = 5;
/// Feature: the highmem assist is available.
pub const XENFEAT_HIGHMEM_ASSIST: u32 = 6;
/// Feature: grant mappings keep the PTE's available bits.
pub const XENFEAT_GNTTAB_MAP_AVAIL_BITS: u32 = 7;
/// Feature (HVM): events can arrive on a callback vector.
pub const XENFEAT_HVM_CALLBACK_VECTOR: u32 = 8;
/// Feature (HVM): the PV clock is safe to use.
pub const XENFEAT_HVM_SAFE_PVCLOCK: u32 = 9;
/// Feature (HVM): physical IRQs arrive as event channels.
pub const XENFEAT_HVM_PIRQS: u32 = 10;
/// Feature: the domain is dom0.
pub const XENFEAT_DOM0: u32 = 11;
// 12 (grant_map_identity) is withdrawn; the header keeps it commented out.
/// Feature: `memory_op` accepts virtual-NUMA node requests.
pub const XENFEAT_MEMORY_OP_VNODE_SUPPORTED: u32 = 13;
/// Feature (Arm): SMCCC calls are supported.
pub const XENFEAT_ARM_SMCCC_SUPPORTED: u32 = 14;
/// Feature: Linux may place the RSDP anywhere.
pub const XENFEAT_LINUX_RSDP_UNRESTRICTED: u32 = 15;
/// Feature: the domain's memory is not identity mapped.
pub const XENFEAT_NOT_DIRECT_MAPPED: u32 = 16;
/// Feature: the domain's memory is identity mapped.
pub const XENFEAT_DIRECT_MAPPED: u32 = 17;

const _: () = {
    assert!(size_of::<XenCompileInfo>() == 144);
    assert!(offset_of!(XenCompileInfo, compile_by) == 64);
    assert!(offset_of!(XenCompileInfo, compile_domain) == 80);
    assert!(offset_of!(XenCompileInfo, compile_date) == 112);
    assert!(size_of::<XenPlatformParameters>() == 8);
    assert!(size_of::<XenFeatureInfo>() == 8);
    assert!(offset_of!(XenFeatureInfo, submap) == 4);
};
