//! `cargo bench -p rings`: our descriptor ring against crossbeam's
//! `ArrayQueue`, `rtrb` and Xen's own C `io/ring.h` macros, two threads on a
//! shared page, plus the floor any of them can reach: one atomic word
//! bounced between two threads.
//!
//! Every contender carries the ring tests' 16-byte request (and, where there
//! is a way back, an 8-byte response) through 128 slots:
//! - `throughput/<contender>/<batch>`: one-way messages per second with the
//!   producer publishing `batch` (1, 8, 32) at a time. For the two rings a
//!   message counts once its response is consumed, because responses are what
//!   free a Xen ring's slots; the queues carry requests only.
//! - `round_trip/<contender>`: one request, wait for its response, repeat;
//!   the queues use two queues, one each way. `round_trip/atomic_ping_pong`
//!   is the floor.
//!
//! No side ever sleeps: consumers spin (`spin_loop`, `pause` in C) instead of
//! waiting on an event channel, but the rings still run their notify checks,
//! whose barrier is part of the protocol's cost.
//!
//! Each criterion sample (`iter_custom`) is one fresh exchange of `iters`
//! messages: a new consumer thread (for C, a new `ring_bench` process with its
//! own two threads), a start barrier, and a clock that starts when the
//! measuring thread leaves the barrier, so start-up is never timed. The
//! same for every contender. Nothing is pinned: on a small machine both
//! threads share the cores with the OS.
#![forbid(unsafe_code)]

mod array_queue;
mod c_ring;
#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/libxen/mod.rs"]
mod libxen;
mod messages;
mod our_ring;
mod ping_pong;
mod rtrb_queue;

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use std::time::Duration;

/// Publication batch sizes of the throughput runs.
const BATCHES: [u64; 3] = [1, 8, 32];

/// A contender's one-way exchange: (batch, messages) to elapsed time.
type OneWay = fn(u64, u64) -> Duration;

/// A contender's round trips: trips to elapsed time.
type RoundTrips = fn(u64) -> Duration;

/// The throughput contenders, by benchmark name.
const THROUGHPUT: [(&str, OneWay); 4] = [
    ("ours", our_ring::throughput),
    ("array_queue", array_queue::throughput),
    ("rtrb", rtrb_queue::throughput),
    ("c_ring_h", c_ring::throughput),
];

/// The round-trip contenders and the floor, by benchmark name.
const ROUND_TRIP: [(&str, RoundTrips); 5] = [
    ("ours", our_ring::round_trip),
    ("array_queue", array_queue::round_trip),
    ("rtrb", rtrb_queue::round_trip),
    ("c_ring_h", c_ring::round_trip),
    ("atomic_ping_pong", ping_pong::round_trip),
];

/// Criterion settings, cut down so the whole run (17 benchmarks) takes two to
/// three minutes: every sample is a long exchange (millions of messages), so
/// few samples are enough, and flat sampling keeps them all the same length.
fn configure<M: criterion::measurement::Measurement>(group: &mut BenchmarkGroup<'_, M>) {
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat);
}

/// One-way throughput of every contender at every batch size.
fn throughput(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("throughput");
    configure(&mut group);
    group.throughput(Throughput::Elements(1));
    for batch in BATCHES {
        for (name, exchange) in THROUGHPUT {
            group.bench_with_input(BenchmarkId::new(name, batch), &batch, |bencher, &batch| {
                bencher.iter_custom(|messages| exchange(batch, messages))
            });
        }
    }
    group.finish();
}

/// Round-trip latency of every contender, and the ping-pong floor.
fn round_trip(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("round_trip");
    configure(&mut group);
    for (name, exchange) in ROUND_TRIP {
        group.bench_function(name, |bencher| bencher.iter_custom(exchange));
    }
    group.finish();
}

criterion_group!(benches, throughput, round_trip);
criterion_main!(benches);
