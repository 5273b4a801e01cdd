//! Xen's C `io/ring.h` macros, in `c/ring_bench.c`, run as their own process.
//!
//! Calling C in-process would take `unsafe` FFI, which this crate keeps to one
//! audited function; a child process needs none. `ring_bench` runs the same
//! exchange as `our_ring.rs` (two threads on one page, the same batching, the
//! same start barrier) and reports the nanoseconds it measured itself with
//! `CLOCK_MONOTONIC`, so process start-up is not timed, as thread start-up is
//! not for the Rust contenders.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Where the Xen public headers are (Debian's `libxen-dev`).
const INCLUDE_DIR: &str = "/usr/include";

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
        assert!(
            Path::new(INCLUDE_DIR).join("xen/io/ring.h").exists(),
            "<xen/io/ring.h> missing under {INCLUDE_DIR}: install the Debian package libxen-dev"
        );
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/c/ring_bench.c");
        let binary = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ring_bench");
        // Outside a build script cargo's TARGET, HOST and OPT_LEVEL are absent,
        // so cc is told everything explicitly (as in tests/c_differential.rs).
        let target = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
        let compiler = cc::Build::new()
            .target(&target)
            .host(&target)
            .opt_level(2)
            .cargo_metadata(false)
            .std("gnu11")
            .include(INCLUDE_DIR)
            .flag("-pthread")
            .warnings(true)
            .extra_warnings(true)
            .warnings_into_errors(true)
            .get_compiler();
        let output = compiler
            .to_command()
            .arg(&source)
            .arg("-o")
            .arg(&binary)
            .output()
            .expect("run the C compiler");
        assert!(
            output.status.success(),
            "{} failed to compile:\n{}",
            source.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        binary
    })
}
