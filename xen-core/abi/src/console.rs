//! The PV console page of `io/console.h`: input to the domain and output
//! from it, each a byte ring with free-running indices.

use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Bytes in the input ring (the size of `xencons_interface.in`).
pub const XENCONS_IN_SIZE: usize = 1024;
/// Bytes in the output ring (the size of `xencons_interface.out`).
pub const XENCONS_OUT_SIZE: usize = 2048;

/// `struct xencons_interface` (3088 bytes at the start of the console page).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenconsInterface {
    /// Input bytes, written by the backend (C: `in`).
    pub input: [u8; XENCONS_IN_SIZE],
    /// Output bytes, written by the domain (C: `out`).
    pub output: [u8; XENCONS_OUT_SIZE],
    /// Input consumed by the domain.
    pub in_cons: u32,
    /// Input produced by the backend.
    pub in_prod: u32,
    /// Output consumed by the backend.
    pub out_cons: u32,
    /// Output produced by the domain.
    pub out_prod: u32,
}

const _: () = {
    assert!(offset_of!(XenconsInterface, output) == 1024);
    assert!(offset_of!(XenconsInterface, in_cons) == 3072);
    assert!(size_of::<XenconsInterface>() == 3088);
};
