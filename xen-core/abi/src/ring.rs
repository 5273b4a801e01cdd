//! The shared page of a split driver's ring, as `io/ring.h`'s
//! `DEFINE_RING_TYPES` lays it out: a header of free-running indices, then
//! the slots, each the union of a request and a response, from byte 64.

use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The header of every `struct X_sring` (64 bytes, before `ring[]`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct SringHeader {
    /// Requests produced, written by the frontend.
    pub req_prod: u32,
    /// "Notify me when `req_prod` passes this", written by the backend.
    pub req_event: u32,
    /// Responses produced, written by the backend.
    pub rsp_prod: u32,
    /// "Notify me when `rsp_prod` passes this", written by the frontend.
    pub rsp_event: u32,
    /// Union `pvt`: bytes some drivers use (`pvt_pad`); zero otherwise.
    pub pvt: [u8; 4],
    /// `__pad`: zero.
    pub _pad: [u8; 44],
}

const _: () = {
    assert!(offset_of!(SringHeader, rsp_event) == 12);
    assert!(size_of::<SringHeader>() == 64);
};
