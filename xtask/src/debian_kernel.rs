//! Debian's stock Linux kernel, as a guest nobody here wrote: the package
//! `linux-image-amd64` depends on (Debian 12: 6.1, a bzImage with an xz
//! payload and CONFIG_XEN_PV), downloaded (not installed) and unpacked under
//! `target/debian-kernel`; nothing of it is ever committed.

use crate::{Result, workspace_root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The metapackage naming the current kernel package.
const METAPACKAGE: &str = "linux-image-amd64";

/// The path of Debian's `vmlinuz`, fetching it first if needed. Safe from
/// many threads and processes at once.
pub fn ensure_debian_kernel() -> Result<PathBuf> {
    let directory = workspace_root().join("target").join("debian-kernel");
    crate::real_xen::fetch_once(&directory, "vmlinuz", fetch_into)
}

/// The kernel package the metapackage depends on, e.g.
/// `linux-image-6.1.0-57-amd64`.
fn kernel_package() -> Result<String> {
    let output = Command::new("apt-cache")
        .args(["depends", METAPACKAGE])
        .output()
        .map_err(|e| format!("apt-cache: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.trim().strip_prefix("Depends: "))
        .filter(|package| package.starts_with("linux-image-"))
        .map(str::to_string)
        .ok_or_else(|| {
            format!("apt-cache depends {METAPACKAGE} names no kernel (needs Debian's package lists: apt-get update)")
                .into()
        })
}

/// Downloads and unpacks the kernel package in `scratch`; its vmlinuz there.
fn fetch_into(scratch: &Path) -> Result<PathBuf> {
    let package = kernel_package()?;
    let status = Command::new("apt-get")
        .args(["download", "-qq", &package])
        .current_dir(scratch)
        .status()
        .map_err(|e| format!("apt-get download {package}: {e}"))?;
    if !status.success() {
        return Err(format!("apt-get download {package} failed").into());
    }
    let deb = std::fs::read_dir(scratch)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .ok_or("apt-get download left no .deb")?;
    let unpacked = scratch.join("package");
    let status = Command::new("dpkg").arg("-x").arg(&deb).arg(&unpacked).status()?;
    if !status.success() {
        return Err("dpkg -x of the kernel package failed".into());
    }
    std::fs::read_dir(unpacked.join("boot"))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("vmlinuz-"))
        })
        .ok_or_else(|| format!("{package} holds no boot/vmlinuz-*").into())
}
