//! What every contender carries: the ring tests' 16-byte request and 8-byte
//! response, and the start line both threads of an exchange wait at.

pub use crate::common::{Request, Response, request, response_to};
use std::sync::Barrier;
use std::time::Instant;

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
