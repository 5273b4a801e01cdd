//! Entry types and shared pages for the ring tests.
#![allow(dead_code)]

use rings::sync::AtomicU32;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// A 16-byte request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Request {
    pub id: u64,
    pub value: u32,
    pub pad: u32,
}

/// An 8-byte response: slots are sized by the larger request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Response {
    pub id: u32,
    pub status: i32,
}

/// A zeroed shared area of `bytes` bytes.
pub fn shared(bytes: usize) -> Vec<AtomicU32> {
    (0..bytes / 4).map(|_| AtomicU32::new(0)).collect()
}

pub fn request(id: u64) -> Request {
    Request {
        id,
        value: (id as u32).wrapping_mul(7),
        pad: 0,
    }
}

pub fn response_to(request: &Request) -> Response {
    Response {
        id: request.id as u32,
        status: request.value as i32,
    }
}
