//! Build orchestration shared by `cargo xtask` and the QEMU scenarios.
//!
//! Bare-metal images are built for `x86_64-unknown-none` by a child cargo in
//! their own workspace (`bare-metal/`) into their own target directory, never
//! as part of the host workspace build (which would try to link them for the
//! host).

pub mod bare_metal;
pub mod bundle;
pub mod debian_kernel;
pub mod demo;
pub mod hypercall_bench;
pub mod images;
pub mod import_graph;
pub mod prerequisites;
pub mod qemu;
pub mod real_xen;
pub mod rustflags;
pub mod tidy;

/// Errors of build steps: one line that says what failed and how to fix it.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// Result of a build step.
pub type Result<T> = std::result::Result<T, Error>;

use std::path::PathBuf;

/// The repository root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}
