//! Xen's public headers as Debian's `libxen-dev` installs them: the reference
//! our layouts and our C peer are built against.

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
