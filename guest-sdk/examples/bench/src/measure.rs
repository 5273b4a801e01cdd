//! Measuring: ticks of the time-stamp counter per call, over many calls.

use guest_sdk::time::rdtsc;

/// Calls per measurement.
pub const CALLS: u64 = 2000;

/// Ticks per iteration of `body`, over [`CALLS`] iterations.
pub fn per_call(mut body: impl FnMut()) -> u64 {
    per_iteration(CALLS, |_| body())
}

/// Ticks per iteration of `body(iteration)`, over `count` iterations.
pub fn per_iteration(count: u64, mut body: impl FnMut(u64)) -> u64 {
    let start = rdtsc();
    for iteration in 0..count {
        body(iteration);
    }
    (rdtsc() - start) / count
}
