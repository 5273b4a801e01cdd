//! Entry types and shared pages for the ring tests (and the ring benchmark).
#![allow(dead_code)]

use rings::sync::AtomicU32;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// A 16-byte request (`struct request` in `tests/c/ring_entries.h`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Request {
    /// Sequence number: the `id`-th request of an exchange.
    pub id: u64,
    /// Payload the answer is computed from.
    pub value: u32,
    /// Explicit padding, so the type is plain bytes.
    pub pad: u32,
}

/// An 8-byte response: slots are sized by the larger request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Response {
    /// The request's `id`, truncated.
    pub id: u32,
    /// The answer.
    pub status: i32,
}

/// A zeroed shared area of `bytes` bytes.
pub fn shared(bytes: usize) -> Vec<AtomicU32> {
    (0..bytes / 4).map(|_| AtomicU32::new(0)).collect()
}

/// Request number `id` (the same in `benches/c/ring_bench.c`).
pub fn request(id: u64) -> Request {
    Request {
        id,
        value: (id as u32).wrapping_mul(7),
        pad: 0,
    }
}

/// The back end's answer to `request` (the same in `benches/c/ring_bench.c`).
pub fn response_to(request: &Request) -> Response {
    Response {
        id: request.id as u32,
        status: request.value as i32,
    }
}
