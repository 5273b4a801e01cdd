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

/// Set the pod target (HVM only).
pub const XENMEM_SET_POD_TARGET: u32 = 16;
/// Read the pod target (HVM only).
pub const XENMEM_GET_POD_TARGET: u32 = 17;
/// Pages freed by memory sharing (a global counter).
pub const XENMEM_GET_SHARING_FREED_PAGES: u32 = 18;
/// Pages shared by memory sharing (a global counter).
pub const XENMEM_GET_SHARING_SHARED_PAGES: u32 = 19;
/// Memory access controls (HVM only).
pub const XENMEM_ACCESS_OP: u32 = 21;
/// `add_to_physmap` for a batch (translated guests only).
pub const XENMEM_ADD_TO_PHYSMAP_BATCH: u32 = 23;
/// Claim pages for a domain being built (toolstack).
pub const XENMEM_CLAIM_PAGES: u32 = 24;
/// The 32-bit M2P's frames.
pub const XENMEM_MACHPHYS_COMPAT_MFN_LIST: u32 = 25;
/// A domain's virtual NUMA topology.
pub const XENMEM_GET_VNUMAINFO: u32 = 26;

/// The sub-op is the low bits of `memory_op`'s command...
pub const MEMOP_CMD_MASK: u64 = (1 << MEMOP_EXTENT_SHIFT) - 1;
/// ...and the extent to resume at (continuations) the bits from here up.
pub const MEMOP_EXTENT_SHIFT: u32 = 6;

/// `mem_flags`: the address width limit, bits 0-7 (0: none).
pub const fn xenmemf_address_bits(mem_flags: u32) -> u32 {
    mem_flags & 0xff
}
/// `mem_flags`: a NUMA node request (node + 1 in bits 8-15).
pub const XENMEMF_NODE_MASK: u32 = 0xff << 8;
/// `mem_flags`: populate on demand (HVM).
pub const XENMEMF_POPULATE_ON_DEMAND: u32 = 1 << 16;
/// `mem_flags`: the node request must be met exactly.
pub const XENMEMF_EXACT_NODE_REQUEST: u32 = 1 << 17;
/// `mem_flags`: the node is a virtual node.
pub const XENMEMF_VNODE: u32 = 1 << 18;

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

/// `struct xen_memory_exchange` (72 bytes): `in`'s extents for `out`'s.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenMemoryExchange {
    /// The extents given up (machine frame numbers for a PV guest).
    pub input: XenMemoryReservation,
    /// The extents wanted (in: pseudo-physical numbers; out: machine ones).
    pub output: XenMemoryReservation,
    /// Input extents exchanged so far; the caller sets 0.
    pub nr_exchanged: u64,
}

/// `struct xen_machphys_mfn_list` (24 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenMachphysMfnList {
    /// Entries the array holds.
    pub max_extents: u32,
    /// Implicit C padding; zero.
    pub _pad0: u32,
    /// Guest pointer to an array of frame numbers.
    pub extent_start: u64,
    /// Out: entries written.
    pub nr_extents: u32,
    /// Implicit C padding at the end; zero.
    pub _pad1: u32,
}

/// One E820 map entry (`struct e820entry`, packed: 20 bytes).
#[repr(C, packed)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct E820Entry {
    /// First byte.
    pub addr: u64,
    /// Bytes.
    pub size: u64,
    /// `E820_RAM` and the rest.
    pub kind: u32,
}

/// Usable RAM.
pub const E820_RAM: u32 = 1;
/// Reserved.
pub const E820_RESERVED: u32 = 2;
/// Most entries a map set with `XENMEM_set_memory_map` may have (`E820MAX`).
pub const E820MAX: u32 = 1024;

const _: () = {
    assert!(size_of::<XenMemoryExchange>() == 72);
    assert!(offset_of!(XenMemoryExchange, nr_exchanged) == 64);
    assert!(size_of::<XenMachphysMfnList>() == 24);
    assert!(offset_of!(XenMachphysMfnList, nr_extents) == 16);
    assert!(size_of::<E820Entry>() == 20);
    assert!(size_of::<XenMemoryReservation>() == 32);
    assert!(offset_of!(XenMemoryReservation, nr_extents) == 8);
    assert!(offset_of!(XenMemoryReservation, extent_order) == 16);
    assert!(offset_of!(XenMemoryReservation, mem_flags) == 20);
    assert!(offset_of!(XenMemoryReservation, domid) == 24);
    assert!(size_of::<XenMemoryMap>() == 16);
    assert!(offset_of!(XenMemoryMap, buffer) == 8);
    assert!(size_of::<XenMachphysMapping>() == 24);
};
