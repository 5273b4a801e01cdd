//! Debian's stock Linux kernel, as a guest nobody here wrote: the package
//! `linux-image-amd64` depends on (Debian 12: 6.1, a bzImage with an xz
//! payload and CONFIG_XEN_PV), downloaded (not installed) and unpacked under
//! `target/debian-kernel`; nothing of it is ever committed.

use crate::{Result, workspace_root};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

/// The metapackage naming the current kernel package.
const METAPACKAGE: &str = "linux-image-amd64";

/// The path of Debian's `vmlinuz`, fetching it first if needed. Safe from
/// many threads and processes at once, as [`crate::real_xen::ensure_real_xen`].
pub fn ensure_debian_kernel() -> Result<PathBuf> {
    static FETCHING: Mutex<()> = Mutex::new(());
    let _turn = FETCHING.lock().unwrap_or_else(PoisonError::into_inner);
    let directory = workspace_root().join("target").join("debian-kernel");
    let image = directory.join("vmlinuz");
    if image.exists() {
        return Ok(image);
    }
    let scratch = directory.join(format!("fetching-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let fetched = fetch_into(&scratch).and_then(|vmlinuz| Ok(std::fs::rename(vmlinuz, &image)?));
    let _ = std::fs::remove_dir_all(&scratch);
    fetched.map(|()| image)
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
