//! What every contender carries: the ring tests' 16-byte request and 8-byte
//! response, and the start line both threads of an exchange wait at.

use std::sync::Barrier;
use std::time::Instant;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// A 16-byte request, as `Request` in `tests/common/mod.rs`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Request {
    /// Sequence number: the `id`-th request of the exchange.
    pub id: u64,
    /// Payload the answer is computed from.
    pub value: u32,
    /// Explicit padding, so the type is plain bytes.
    pub pad: u32,
}

/// An 8-byte response, as `Response` in `tests/common/mod.rs`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Response {
    /// The request's `id`, truncated.
    pub id: u32,
    /// The answer.
    pub status: i32,
}

/// Request number `id` (the same in `c/ring_bench.c`).
pub fn request(id: u64) -> Request {
    Request {
        id,
        value: (id as u32).wrapping_mul(7),
        pad: 0,
    }
}

/// The back end's answer to `request` (the same in `c/ring_bench.c`).
pub fn response_to(request: &Request) -> Response {
    Response {
        id: request.id as u32,
        status: request.value as i32,
    }
}

/// Fails the benchmark if the `received`-th message carries another id:
/// a contender that loses or reorders messages must not post a time.
#[track_caller]
pub fn check_order(id: u64, received: u64) {
    assert_eq!(id, received, "message {received} arrived out of order");
}

/// The start line of one exchange: both threads wait here, and the clock starts
/// when the measuring thread leaves it, so thread start-up is never timed.
pub fn start_together(start: &Barrier) -> Instant {
    start.wait();
    Instant::now()
}
