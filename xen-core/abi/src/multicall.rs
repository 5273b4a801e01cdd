//! The `multicall` batch entry of `xen.h`.

use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `struct multicall_entry` (64 bytes): one hypercall of a `multicall` batch.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct MulticallEntry {
    /// Hypercall number.
    pub op: u64,
    /// Return value, written back by the hypervisor.
    pub result: u64,
    /// Arguments; the first five are passed.
    pub args: [u64; 6],
}

const _: () = {
    assert!(size_of::<MulticallEntry>() == 64);
    assert!(offset_of!(MulticallEntry, result) == 8);
    assert!(offset_of!(MulticallEntry, args) == 16);
};
