//! ELF note types of `xen/include/public/elfnote.h`.
//!
//! Notes are named "Xen"; the type says what the descriptor holds.

/// The name every Xen ELF note carries (without its NUL terminator).
pub const XEN_ELFNOTE_NAME: &[u8] = b"Xen";

/// Legacy `NAME=VALUE` information string.
pub const XEN_ELFNOTE_INFO: u32 = 0;
/// Virtual entry point (default: the ELF entry).
pub const XEN_ELFNOTE_ENTRY: u32 = 1;
/// Virtual address of the page the hypervisor fills with hypercall stubs.
pub const XEN_ELFNOTE_HYPERCALL_PAGE: u32 = 2;
/// Virtual address where pseudo-physical address 0 is mapped.
pub const XEN_ELFNOTE_VIRT_BASE: u32 = 3;
/// Subtracted from `p_paddr` to get a segment's load offset.
pub const XEN_ELFNOTE_PADDR_OFFSET: u32 = 4;
/// Interface version string; must start with "xen-3.0".
pub const XEN_ELFNOTE_XEN_VERSION: u32 = 5;
/// Guest operating system name.
pub const XEN_ELFNOTE_GUEST_OS: u32 = 6;
/// Guest version string (informational).
pub const XEN_ELFNOTE_GUEST_VERSION: u32 = 7;
/// Loader name; "generic" unless the guest is Linux.
pub const XEN_ELFNOTE_LOADER: u32 = 8;
/// PAE mode string (32-bit guests only).
pub const XEN_ELFNOTE_PAE_MODE: u32 = 9;
/// `|`-separated XENFEAT names; a `!` prefix marks a required feature.
pub const XEN_ELFNOTE_FEATURES: u32 = 10;
/// "yes" asks the builder to load the symbol table after the image.
pub const XEN_ELFNOTE_BSD_SYMTAB: u32 = 11;
/// Lowest hypervisor address (32-bit guests only).
pub const XEN_ELFNOTE_HV_START_LOW: u32 = 12;
/// Mask/value pairs for non-present PTEs that hold MFNs.
pub const XEN_ELFNOTE_L1_MFN_VALID: u32 = 13;
/// Cooperative suspend cancellation is supported.
pub const XEN_ELFNOTE_SUSPEND_CANCEL: u32 = 14;
/// Virtual address for the p2m list instead of the default place.
pub const XEN_ELFNOTE_INIT_P2M: u32 = 15;
/// The guest accepts an unmapped module given by PFN.
pub const XEN_ELFNOTE_MOD_START_PFN: u32 = 16;
/// XENFEAT bitmap(s) the guest supports.
pub const XEN_ELFNOTE_SUPPORTED_FEATURES: u32 = 17;
/// Physical address of the 32-bit PVH entry point.
pub const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;
