//! Xen's C `io/ring.h` macros, in `c/ring_bench.c`, run as their own process.
//!
//! Calling C in-process would take `unsafe` FFI, which this crate keeps to one
//! audited function; a child process needs none. `ring_bench` runs the same
//! exchange as `our_ring.rs` (two threads on one page, the same batching, the
//! same start barrier) and reports the nanoseconds it measured itself with
//! `CLOCK_MONOTONIC`, so process start-up is not timed, as thread start-up is
//! not for the Rust contenders.

use crate::libxen;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Time for `messages` requests, sent in batches of `batch`, to be answered.
pub fn throughput(batch: u64, messages: u64) -> Duration {
    run(&["throughput", &batch.to_string(), &messages.to_string()])
}

/// Time for `trips` round trips of one request and its response.
pub fn round_trip(trips: u64) -> Duration {
    run(&["round-trip", &trips.to_string()])
}

/// Runs `ring_bench` with `arguments` and returns the time it reports.
fn run(arguments: &[&str]) -> Duration {
    let output = Command::new(binary())
        .args(arguments)
        .output()
        .expect("start ring_bench");
    assert!(
        output.status.success(),
        "ring_bench {arguments:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let nanoseconds = stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("ring_bench printed {stdout:?}, not nanoseconds"));
    Duration::from_nanos(nanoseconds)
}

/// Builds `ring_bench` once per benchmark run with the `cc` crate, at `-O2`.
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        libxen::require_headers(&["xen/io/ring.h"]);
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/c/ring_bench.c");
        let binary = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ring_bench");
        libxen::compile_program(&source, &binary, &["-pthread"]);
        binary
    })
}
