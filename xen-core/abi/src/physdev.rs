//! Physical-device operations of `physdev.h` used by x86 PV domains.
//!
//! `physdev_op` takes a command in RDI and a pointer to its struct in RSI.

use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Query an IRQ's status ([`PhysdevIrqStatusQuery`]).
pub const PHYSDEVOP_IRQ_STATUS_QUERY: u32 = 5;
/// Set the calling vCPU's I/O privilege level ([`PhysdevSetIopl`]).
pub const PHYSDEVOP_SET_IOPL: u32 = 6;
/// Set the calling vCPU's I/O-port bitmap ([`PhysdevSetIobitmap`]).
pub const PHYSDEVOP_SET_IOBITMAP: u32 = 7;
/// Acknowledge a physical IRQ ([`PhysdevEoi`]).
pub const PHYSDEVOP_EOI: u32 = 12;
/// Map a GSI or MSI to a PIRQ.
pub const PHYSDEVOP_MAP_PIRQ: u32 = 13;
/// Undo `PHYSDEVOP_MAP_PIRQ`.
pub const PHYSDEVOP_UNMAP_PIRQ: u32 = 14;

/// `struct physdev_eoi` (4 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct PhysdevEoi {
    /// IRQ being acknowledged.
    pub irq: u32,
}

/// [`PhysdevIrqStatusQuery::flags`]: the IRQ needs `PHYSDEVOP_EOI`.
pub const XENIRQSTAT_NEEDS_EOI: u32 = 1 << 0;
/// [`PhysdevIrqStatusQuery::flags`]: the IRQ is shared with other domains.
pub const XENIRQSTAT_SHARED: u32 = 1 << 1;

/// `struct physdev_irq_status_query` (8 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct PhysdevIrqStatusQuery {
    /// IRQ to query.
    pub irq: u32,
    /// Out: `XENIRQSTAT_*` bits.
    pub flags: u32,
}

/// `struct physdev_set_iopl` (4 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct PhysdevSetIopl {
    /// New I/O privilege level, 0–3.
    pub iopl: u32,
}

/// `struct physdev_set_iobitmap` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct PhysdevSetIobitmap {
    /// Guest pointer to the bitmap (a set bit denies the port, as in a TSS).
    pub bitmap: u64,
    /// Number of ports the bitmap covers.
    pub nr_ports: u32,
    /// Implicit C padding at the end; zero.
    pub _pad0: u32,
}

const _: () = {
    assert!(size_of::<PhysdevEoi>() == 4);
    assert!(size_of::<PhysdevIrqStatusQuery>() == 8);
    assert!(offset_of!(PhysdevIrqStatusQuery, flags) == 4);
    assert!(size_of::<PhysdevSetIopl>() == 4);
    assert!(size_of::<PhysdevSetIobitmap>() == 16);
    assert!(offset_of!(PhysdevSetIobitmap, nr_ports) == 8);
};
