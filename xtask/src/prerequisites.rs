//! Making sure the tools a build or a boot needs are there.
//!
//! Missing pieces are installed when we can (`rustup target add`; `apt-get`
//! when running as root), otherwise we stop with one line naming the fix.

use crate::Result;
use std::process::{Command, Stdio};

/// The bare-metal target every image is built for.
pub const BARE_METAL_TARGET: &str = "x86_64-unknown-none";

/// Installs the bare-metal target's prebuilt standard library when missing.
///
/// Rustup's automatic install may be off (`RUSTUP_AUTO_INSTALL=0`), in which
/// case the `targets` of rust-toolchain.toml are silently not installed.
pub fn ensure_bare_metal_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("cannot run rustup ({e}); install rustup from https://rustup.rs"))?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|line| line.trim() == BARE_METAL_TARGET)
    {
        return Ok(());
    }
    eprintln!("xtask: installing the {BARE_METAL_TARGET} target (rustup target add)");
    let status = Command::new("rustup")
        .args(["target", "add", BARE_METAL_TARGET])
        .status()?;
    if !status.success() {
        return Err(format!("`rustup target add {BARE_METAL_TARGET}` failed").into());
    }
    Ok(())
}

/// Whether `program` can be started.
fn runs(program: &str, argument: &str) -> bool {
    Command::new(program)
        .arg(argument)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether this process runs as root (and so may use apt-get).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// Installs Debian packages with apt-get, or names them if we cannot.
fn apt_install(packages: &[&str], why: &str) -> Result<()> {
    let names = packages.join(" ");
    if !is_root() || !runs("apt-get", "--version") {
        return Err(format!("{why}: install the Debian package(s) {names} (sudo apt-get install {names})").into());
    }
    eprintln!("xtask: {why}: installing {names} with apt-get");
    let update = Command::new("apt-get").args(["update", "-qq"]).status()?;
    let install = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()?;
    if !update.success() || !install.success() {
        return Err(format!("apt-get could not install {names}").into());
    }
    Ok(())
}

/// Makes sure `qemu-system-x86_64` exists (Debian package qemu-system-x86).
pub fn ensure_qemu() -> Result<()> {
    if runs("qemu-system-x86_64", "--version") {
        return Ok(());
    }
    apt_install(&["qemu-system-x86"], "qemu-system-x86_64 is missing")?;
    if runs("qemu-system-x86_64", "--version") {
        Ok(())
    } else {
        Err("qemu-system-x86_64 still missing after installing qemu-system-x86".into())
    }
}

/// Makes sure Xen's public headers exist (Debian package libxen-dev); the
/// layout conformance tests compile C against them.
pub fn ensure_xen_headers() -> Result<()> {
    if std::path::Path::new("/usr/include/xen/xen.h").exists() {
        return Ok(());
    }
    apt_install(&["libxen-dev"], "Xen public headers are missing")
}

/// Makes sure `gzip` and `xz` exist (Debian packages gzip and xz-utils):
/// the kernel-image tests compress with them as Linux's build does.
pub fn ensure_compressors() -> Result<()> {
    if runs("gzip", "--version") && runs("xz", "--version") {
        return Ok(());
    }
    apt_install(&["gzip", "xz-utils"], "gzip or xz is missing")
}
