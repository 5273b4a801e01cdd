//! Xen's public headers as Debian's `libxen-dev` installs them: the reference
//! our layouts and our C peer are built against.
#![allow(dead_code)] // each test binary (and the benchmark) uses a different part

use std::path::Path;

/// The directory to put on the C include path; headers are named `<xen/...>`.
pub const INCLUDE_DIR: &str = "/usr/include";

/// Fails the test unless every header exists, naming the package to install:
/// a missing header must read as a setup problem, not as a layout mismatch.
pub fn require_headers(headers: &[&str]) {
    for header in headers {
        assert!(
            Path::new(INCLUDE_DIR).join(header).exists(),
            "Xen public header <{header}> missing under {INCLUDE_DIR}: install the Debian \
             package libxen-dev (cargo xtask test does)"
        );
    }
}

/// Compiles the C program `source` against these headers into `binary`, at
/// `-O2` with warnings as errors, passing `flags` on; fails with the
/// compiler's output if it does not build.
pub fn compile_program(source: &Path, binary: &Path, flags: &[&str]) {
    // Outside a build script cargo's TARGET, HOST and OPT_LEVEL are absent,
    // so cc is told everything explicitly.
    let target = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let mut build = cc::Build::new();
    build
        .target(&target)
        .host(&target)
        .opt_level(2)
        .cargo_metadata(false)
        .std("gnu11")
        .include(INCLUDE_DIR)
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true);
    for flag in flags {
        build.flag(flag);
    }
    let output = build
        .get_compiler()
        .to_command()
        .arg(source)
        .arg("-o")
        .arg(binary)
        .output()
        .expect("run the C compiler");
    assert!(
        output.status.success(),
        "{} failed to compile:\n{}",
        source.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}
