//! Building the bare-metal images and the boot bundle.

use crate::prerequisites::{BARE_METAL_TARGET, ensure_bare_metal_target};
use crate::{Result, bundle, workspace_root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Which cargo profile the images are built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Unoptimised, for stepping through in gdb.
    Debug,
    /// Optimised, with debug info: the default for runs and tests.
    Release,
}

impl Profile {
    fn directory(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

/// Paths of everything a boot needs.
#[derive(Clone, Debug)]
pub struct Images {
    /// The hypervisor ELF, booted with QEMU's `-kernel` (PVH entry).
    pub hypervisor: PathBuf,
    /// The boot bundle, passed as the PVH module with `-initrd`.
    pub bundle: PathBuf,
}

/// A bare-metal crate and the binary it produces.
struct BareMetalCrate {
    /// Crate directory, relative to the repository root.
    directory: &'static str,
    /// Name of the binary target.
    binary: &'static str,
}

const HYPERVISOR: BareMetalCrate = BareMetalCrate {
    directory: "xen-core/kernel",
    binary: "xen-kernel",
};
const HELLO_GUEST: BareMetalCrate = BareMetalCrate {
    directory: "guest-sdk/examples/hello",
    binary: "hello",
};

/// Every bare-metal crate, for tools that walk them all (clippy, fmt).
pub const BARE_METAL_CRATES: [&str; 2] = [HYPERVISOR.directory, HELLO_GUEST.directory];

/// Where bare-metal builds go: apart from the host workspace's target dir.
pub fn bare_metal_target_dir() -> PathBuf {
    workspace_root().join("target").join("bare-metal")
}

/// A child cargo with the environment a nested build must not inherit.
///
/// `RUSTFLAGS` would replace our flags; `CARGO_TARGET_DIR` and
/// `CARGO_BUILD_TARGET` would send the build elsewhere.
pub fn bare_metal_cargo(directory: &Path) -> Command {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(directory)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env("CARGO_TARGET_DIR", bare_metal_target_dir());
    cargo
}

fn build(krate: &BareMetalCrate, profile: Profile) -> Result<PathBuf> {
    let directory = workspace_root().join(krate.directory);
    let mut cargo = bare_metal_cargo(&directory);
    cargo.args(["build", "--quiet", "--target", BARE_METAL_TARGET]);
    if profile == Profile::Release {
        cargo.arg("--release");
    }
    let status = cargo.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building {} failed", krate.directory).into());
    }
    Ok(bare_metal_target_dir()
        .join(BARE_METAL_TARGET)
        .join(profile.directory())
        .join(krate.binary))
}

/// The manifest of the default bundle. The first domain is dom0.
const DEFAULT_MANIFEST: &str = "\
# xen-core boot manifest, written by `cargo xtask build`.
xen-core-manifest 1
domain dom0 kernel=hello.elf memory=32M cmdline=hello from the boot bundle
";

/// Builds the hypervisor and the guest images and writes the boot bundle.
pub fn build_images(profile: Profile) -> Result<Images> {
    ensure_bare_metal_target()?;
    let hypervisor = build(&HYPERVISOR, profile)?;
    let hello = build(&HELLO_GUEST, profile)?;
    let bundle = workspace_root()
        .join("target")
        .join("bundle")
        .join(format!("boot-{}.tar", profile.directory()));
    let hello_image = std::fs::read(&hello).map_err(|e| format!("{}: {e}", hello.display()))?;
    bundle::write_bundle(&bundle, DEFAULT_MANIFEST, &[("hello.elf", &hello_image)])?;
    Ok(Images { hypervisor, bundle })
}
