//! Memory reservations and maps of `memory.h`.
//!
//! `memory_op` takes a command in RDI and a pointer to its argument in RSI.
//! Guest arrays are passed as guest pointers, held here as `u64`.

use crate::mmu::DomId;
use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Add extents to a domain ([`XenMemoryReservation`]).
pub const XENMEM_INCREASE_RESERVATION: u32 = 0;
/// Give extents back ([`XenMemoryReservation`]).
pub const XENMEM_DECREASE_RESERVATION: u32 = 1;
/// Highest machine frame in the system; no argument.
pub const XENMEM_MAXIMUM_RAM_PAGE: u32 = 2;
/// Pages a domain holds; the argument points at a [`DomId`].
pub const XENMEM_CURRENT_RESERVATION: u32 = 3;
/// Pages a domain may hold; the argument points at a [`DomId`].
pub const XENMEM_MAXIMUM_RESERVATION: u32 = 4;
/// List the frames of the M2P table.
pub const XENMEM_MACHPHYS_MFN_LIST: u32 = 5;
/// Back guest frame numbers with memory ([`XenMemoryReservation`]).
pub const XENMEM_POPULATE_PHYSMAP: u32 = 6;
/// Place a special page (e.g. shared info) in the physical map.
pub const XENMEM_ADD_TO_PHYSMAP: u32 = 7;
/// Read the domain's pseudo-physical memory map ([`XenMemoryMap`]).
pub const XENMEM_MEMORY_MAP: u32 = 9;
/// Read the host's memory map (privileged; [`XenMemoryMap`]).
pub const XENMEM_MACHINE_MEMORY_MAP: u32 = 10;
/// Exchange extents for extents of another size or placement.
pub const XENMEM_EXCHANGE: u32 = 11;
/// Where the M2P table is mapped ([`XenMachphysMapping`]).
pub const XENMEM_MACHPHYS_MAPPING: u32 = 12;
/// Set a domain's memory map (toolstack).
pub const XENMEM_SET_MEMORY_MAP: u32 = 13;
/// Highest guest frame number of a domain; the argument points at a [`DomId`].
pub const XENMEM_MAXIMUM_GPFN: u32 = 14;
/// Remove a page from the physical map.
pub const XENMEM_REMOVE_FROM_PHYSMAP: u32 = 15;

/// `struct xen_memory_reservation` (32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenMemoryReservation {
    /// Guest pointer to an array of `nr_extents` frame numbers.
    pub extent_start: u64,
    /// Number of extents.
    pub nr_extents: u64,
    /// Each extent is `2^extent_order` pages.
    pub extent_order: u32,
    /// `XENMEMF_*` bits: address-width limit and NUMA node.
    pub mem_flags: u32,
    /// Domain to operate on (DOMID_SELF unless privileged).
    pub domid: DomId,
    /// Implicit C padding at the end; zero.
    pub _pad0: [u16; 3],
}

/// `struct xen_memory_map` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenMemoryMap {
    /// In: entries the buffer holds; out: entries written.
    pub nr_entries: u32,
    /// Implicit C padding before `buffer`; zero.
    pub _pad0: u32,
    /// Guest pointer to an array of E820 entries (20 bytes each).
    pub buffer: u64,
}

/// `struct xen_machphys_mapping` (24 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenMachphysMapping {
    /// First virtual address of the M2P table.
    pub v_start: u64,
    /// End (exclusive) of the M2P table.
    pub v_end: u64,
    /// Highest MFN the table covers.
    pub max_mfn: u64,
}

const _: () = {
    assert!(size_of::<XenMemoryReservation>() == 32);
    assert!(offset_of!(XenMemoryReservation, nr_extents) == 8);
    assert!(offset_of!(XenMemoryReservation, extent_order) == 16);
    assert!(offset_of!(XenMemoryReservation, mem_flags) == 20);
    assert!(offset_of!(XenMemoryReservation, domid) == 24);
    assert!(size_of::<XenMemoryMap>() == 16);
    assert!(offset_of!(XenMemoryMap, buffer) == 8);
    assert!(size_of::<XenMachphysMapping>() == 24);
};
