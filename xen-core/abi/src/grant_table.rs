//! Grant tables (version 1) of `grant_table.h`.
//!
//! A granter writes [`GrantEntryV1`] entries into its table pages to let another
//! domain map or copy one of its frames. `grant_table_op` takes a command in
//! RDI, an array of the command's structs in RSI and their count in RDX; each
//! struct reports its own `GNTST_*` status.

use crate::mmu::DomId;
use crate::page_table_entry::PAGE_SIZE;
use bitflags::bitflags;
use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `grant_ref_t`: index of an entry in a grant table.
pub type GrantRef = u32;
/// `grant_handle_t`: a mapping's handle, returned by `map_grant_ref`.
pub type GrantHandle = u32;

/// `struct grant_entry_v1` (8 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct GrantEntryV1 {
    /// [`GrantFlags`] bits; written last by the granter.
    pub flags: u16,
    /// Domain the grant is for.
    pub domid: DomId,
    /// Granted frame (an MFN for a PV granter).
    pub frame: u32,
}

/// Version 1 entries in one grant frame (Linux's `GREFS_PER_GRANT_FRAME`;
/// Xen's headers leave it implicit).
pub const GRANT_ENTRIES_V1_PER_FRAME: u32 = (PAGE_SIZE / size_of::<GrantEntryV1>() as u64) as u32;

/// `GNTTAB_NR_RESERVED_ENTRIES`: entries the toolstack may use at start of day.
pub const GNTTAB_NR_RESERVED_ENTRIES: u32 = 8;
/// `GNTTAB_RESERVED_CONSOLE`: entry granting the console ring.
pub const GNTTAB_RESERVED_CONSOLE: u32 = 0;
/// `GNTTAB_RESERVED_XENSTORE`: entry granting the xenstore ring.
pub const GNTTAB_RESERVED_XENSTORE: u32 = 1;

/// `GTF_invalid`: entry type 0, nothing granted.
pub const GTF_INVALID: u16 = 0;

bitflags! {
    /// `GTF_*`: bits of [`GrantEntryV1::flags`]. Bits 0–1 hold the entry type
    /// (`GTF_invalid` is [`GTF_INVALID`]).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct GrantFlags: u16 {
        /// Type: the grantee may map or copy the frame.
        const PERMIT_ACCESS = 1;
        /// Type: the grantee may transfer a frame to us.
        const ACCEPT_TRANSFER = 2;
        /// Type: the grant forwards another grant (version 2 only).
        const TRANSITIVE = 3;
        /// Bits holding the type.
        const TYPE_MASK = 3;
        /// Granter: read-only access.
        const READONLY = 1 << 2;
        /// Hypervisor: the frame is mapped or copied for reading.
        const READING = 1 << 3;
        /// Hypervisor: the frame is mapped or copied for writing.
        const WRITING = 1 << 4;
        /// Cache attribute: write-through.
        const PWT = 1 << 5;
        /// Cache attribute: cache disable.
        const PCD = 1 << 6;
        /// Cache attribute: PAT.
        const PAT = 1 << 7;
        /// The grant covers part of a page (version 2 only).
        const SUB_PAGE = 1 << 8;
        /// Transfer: the transfer is committed.
        const TRANSFER_COMMITTED = 1 << 2;
        /// Transfer: the transfer is complete.
        const TRANSFER_COMPLETED = 1 << 3;
    }
}

/// Map a granted frame ([`GnttabMapGrantRef`]).
pub const GNTTABOP_MAP_GRANT_REF: u32 = 0;
/// Remove a mapping ([`GnttabUnmapGrantRef`]).
pub const GNTTABOP_UNMAP_GRANT_REF: u32 = 1;
/// Size the caller's table and list its frames ([`GnttabSetupTable`]).
pub const GNTTABOP_SETUP_TABLE: u32 = 2;
/// Dump a table to the console (debug).
pub const GNTTABOP_DUMP_TABLE: u32 = 3;
/// Transfer a frame to another domain.
pub const GNTTABOP_TRANSFER: u32 = 4;
/// Copy between granted or local frames ([`GnttabCopy`]).
pub const GNTTABOP_COPY: u32 = 5;
/// Query a table's size ([`GnttabQuerySize`]).
pub const GNTTABOP_QUERY_SIZE: u32 = 6;
/// Unmap and move another mapping in its place.
pub const GNTTABOP_UNMAP_AND_REPLACE: u32 = 7;
/// Select the table format ([`GnttabSetVersion`]).
pub const GNTTABOP_SET_VERSION: u32 = 8;
/// List the version-2 status frames.
pub const GNTTABOP_GET_STATUS_FRAMES: u32 = 9;
/// Read a table's format version.
pub const GNTTABOP_GET_VERSION: u32 = 10;
/// Swap two entries.
pub const GNTTABOP_SWAP_GRANT_REF: u32 = 11;
/// Clean or invalidate caches of granted memory.
pub const GNTTABOP_CACHE_FLUSH: u32 = 12;

bitflags! {
    /// `GNTMAP_*`: bits of [`GnttabMapGrantRef::flags`] and of unmap requests.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct GntmapFlags: u32 {
        /// Map for device access (`dev_bus_addr`).
        const DEVICE_MAP = 1 << 0;
        /// Map into the caller's page tables (`host_addr`).
        const HOST_MAP = 1 << 1;
        /// Map read-only.
        const READONLY = 1 << 2;
        /// The mapping is for user mode.
        const APPLICATION_MAP = 1 << 3;
        /// `host_addr` is the machine address of a PTE, not a virtual address.
        const CONTAINS_PTE = 1 << 4;
    }
}

/// `GNTMAP_guest_avail_mask`: map-flag bits 16–31, left for the guest's own use.
pub const GNTMAP_GUEST_AVAIL_MASK: u32 = 0xffff_0000;

/// Status: success.
pub const GNTST_OKAY: i16 = 0;
/// Status: unspecified error.
pub const GNTST_GENERAL_ERROR: i16 = -1;
/// Status: unknown domain.
pub const GNTST_BAD_DOMAIN: i16 = -2;
/// Status: unknown or unsuitable grant reference.
pub const GNTST_BAD_GNTREF: i16 = -3;
/// Status: unknown or unsuitable mapping handle.
pub const GNTST_BAD_HANDLE: i16 = -4;
/// Status: unsuitable virtual address.
pub const GNTST_BAD_VIRT_ADDR: i16 = -5;
/// Status: unsuitable device address.
pub const GNTST_BAD_DEV_ADDR: i16 = -6;
/// Status: no I/O MMU space left.
pub const GNTST_NO_DEVICE_SPACE: i16 = -7;
/// Status: not permitted.
pub const GNTST_PERMISSION_DENIED: i16 = -8;
/// Status: unsuitable page.
pub const GNTST_BAD_PAGE: i16 = -9;
/// Status: a copy range crosses a page boundary.
pub const GNTST_BAD_COPY_ARG: i16 = -10;
/// Status: transferred page address too large.
pub const GNTST_ADDRESS_TOO_BIG: i16 = -11;
/// Status: not done; try again.
pub const GNTST_EAGAIN: i16 = -12;
/// Status: out of space (handles etc.).
pub const GNTST_NO_SPACE: i16 = -13;

/// `struct gnttab_map_grant_ref` (32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct GnttabMapGrantRef {
    /// Virtual address to map at, or a PTE's machine address with
    /// [`GntmapFlags::CONTAINS_PTE`].
    pub host_addr: u64,
    /// [`GntmapFlags`] bits.
    pub flags: u32,
    /// Entry of the granter's table (C: `ref`).
    pub gref: GrantRef,
    /// Granting domain.
    pub dom: DomId,
    /// Out: a `GNTST_*` status.
    pub status: i16,
    /// Out: handle to unmap with.
    pub handle: GrantHandle,
    /// Out: bus address for device mappings.
    pub dev_bus_addr: u64,
}

/// `struct gnttab_unmap_grant_ref` (24 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct GnttabUnmapGrantRef {
    /// Address given to the map (0: no host mapping to remove).
    pub host_addr: u64,
    /// Bus address returned by the map (0: no device mapping to remove).
    pub dev_bus_addr: u64,
    /// Handle returned by the map.
    pub handle: GrantHandle,
    /// Out: a `GNTST_*` status.
    pub status: i16,
    /// Implicit C padding at the end; zero.
    pub _pad0: u16,
}

/// `struct gnttab_setup_table` (24 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct GnttabSetupTable {
    /// Domain whose table is set up (DOMID_SELF unless privileged).
    pub dom: DomId,
    /// Implicit C padding before `nr_frames`; zero.
    pub _pad0: u16,
    /// Number of table frames wanted.
    pub nr_frames: u32,
    /// Out: a `GNTST_*` status.
    pub status: i16,
    /// Implicit C padding before `frame_list`; zero.
    pub _pad1: [u16; 3],
    /// Guest pointer to an array of `nr_frames` u64 that receives the frame numbers.
    pub frame_list: u64,
}

bitflags! {
    /// `GNTCOPY_*`: bits of [`GnttabCopy::flags`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct GntcopyFlags: u16 {
        /// The source is a grant reference, not a local frame.
        const SOURCE_GREF = 1 << 0;
        /// The destination is a grant reference, not a local frame.
        const DEST_GREF = 1 << 1;
    }
}

/// `struct gnttab_copy_ptr` (16 bytes): one end of a copy.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct GnttabCopyPtr {
    /// Union `u`: the grant reference in the low 32 bits (with the `*_GREF`
    /// flag) or the caller's own frame number `gmfn`.
    pub u: u64,
    /// Domain owning the frame.
    pub domid: DomId,
    /// Byte offset within the frame.
    pub offset: u16,
    /// Implicit C padding at the end; zero.
    pub _pad0: u32,
}

/// `struct gnttab_copy` (40 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct GnttabCopy {
    /// Where to copy from.
    pub source: GnttabCopyPtr,
    /// Where to copy to.
    pub dest: GnttabCopyPtr,
    /// Number of bytes; neither range may cross a page boundary.
    pub len: u16,
    /// [`GntcopyFlags`] bits.
    pub flags: u16,
    /// Out: a `GNTST_*` status.
    pub status: i16,
    /// Implicit C padding at the end; zero.
    pub _pad0: u16,
}

/// `struct gnttab_query_size` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct GnttabQuerySize {
    /// Domain to query (DOMID_SELF unless privileged).
    pub dom: DomId,
    /// Implicit C padding before `nr_frames`; zero.
    pub _pad0: u16,
    /// Out: current number of table frames.
    pub nr_frames: u32,
    /// Out: maximum number of table frames.
    pub max_nr_frames: u32,
    /// Out: a `GNTST_*` status.
    pub status: i16,
    /// Implicit C padding at the end; zero.
    pub _pad1: u16,
}

/// `struct gnttab_set_version` (4 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct GnttabSetVersion {
    /// In: wanted version (1 or 2); out: the version in force.
    pub version: u32,
}

const _: () = {
    assert!(size_of::<GrantEntryV1>() == 8);
    assert!(GRANT_ENTRIES_V1_PER_FRAME == 512);
    assert!(offset_of!(GrantEntryV1, domid) == 2);
    assert!(offset_of!(GrantEntryV1, frame) == 4);
    assert!(size_of::<GnttabMapGrantRef>() == 32);
    assert!(offset_of!(GnttabMapGrantRef, gref) == 12);
    assert!(offset_of!(GnttabMapGrantRef, status) == 18);
    assert!(offset_of!(GnttabMapGrantRef, handle) == 20);
    assert!(offset_of!(GnttabMapGrantRef, dev_bus_addr) == 24);
    assert!(size_of::<GnttabUnmapGrantRef>() == 24);
    assert!(offset_of!(GnttabUnmapGrantRef, status) == 20);
    assert!(size_of::<GnttabSetupTable>() == 24);
    assert!(offset_of!(GnttabSetupTable, status) == 8);
    assert!(offset_of!(GnttabSetupTable, frame_list) == 16);
    assert!(size_of::<GnttabCopyPtr>() == 16);
    assert!(offset_of!(GnttabCopyPtr, domid) == 8);
    assert!(size_of::<GnttabCopy>() == 40);
    assert!(offset_of!(GnttabCopy, dest) == 16);
    assert!(offset_of!(GnttabCopy, len) == 32);
    assert!(offset_of!(GnttabCopy, status) == 36);
    assert!(size_of::<GnttabQuerySize>() == 16);
    assert!(offset_of!(GnttabQuerySize, status) == 12);
    assert!(size_of::<GnttabSetVersion>() == 4);
};
