//! Real Xen, as an oracle: Debian's Xen 4.17 hypervisor, fetched on demand.
//!
//! Booting the same guest binary on real Xen and on xen-core is how we know
//! guest-sdk makes real Xen PV guests. The hypervisor comes from Debian's
//! `xen-hypervisor-4.17-amd64` package, downloaded (not installed) and
//! unpacked under `target/real-xen`; nothing of it is ever committed.

use crate::{Result, workspace_root};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

/// The Debian package holding the hypervisor.
const PACKAGE: &str = "xen-hypervisor-4.17-amd64";
/// The gzipped hypervisor inside the package.
const IMAGE_IN_PACKAGE: &str = "boot/xen-4.17-amd64.gz";

/// Returns the path of the unpacked Xen ELF, fetching it first if needed.
///
/// Safe to call from many threads and processes at once (the scenarios run
/// in parallel, and a fresh clone has no copy yet): threads take turns, and
/// each process downloads and unpacks in its own directory, then renames
/// the finished image into place. Two fetches sharing one directory once
/// made `dpkg -x` read the other's half-downloaded package.
pub fn ensure_real_xen() -> Result<PathBuf> {
    let directory = workspace_root().join("target").join("real-xen");
    fetch_once(&directory, "xen-4.17.elf", fetch_into)
}

/// `directory/name`, made first by `fetch` if it is not there: `fetch`
/// works in a scratch directory of this process's own, and its result is
/// renamed into place, so threads and processes fetching at once never
/// read each other's half-made files.
pub(crate) fn fetch_once(
    directory: &Path,
    name: &str,
    fetch: impl FnOnce(&Path) -> Result<PathBuf>,
) -> Result<PathBuf> {
    static FETCHING: Mutex<()> = Mutex::new(());
    let _turn = FETCHING.lock().unwrap_or_else(PoisonError::into_inner);
    let image = directory.join(name);
    if image.exists() {
        return Ok(image);
    }
    let scratch = directory.join(format!("fetching-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let fetched = fetch(&scratch).and_then(|made| Ok(std::fs::rename(made, &image)?));
    let _ = std::fs::remove_dir_all(&scratch);
    fetched.map(|()| image)
}

/// Downloads and unpacks the package in `scratch`; the ELF's path there.
fn fetch_into(scratch: &Path) -> Result<PathBuf> {
    let run = |command: &mut Command, what: &str| -> Result<()> {
        let status = command.status().map_err(|e| format!("{what}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{what} failed").into())
        }
    };
    run(
        Command::new("apt-get")
            .args(["download", "-qq", PACKAGE])
            .current_dir(scratch),
        &format!("apt-get download {PACKAGE} (needs Debian's package lists: apt-get update)"),
    )?;
    let deb = std::fs::read_dir(scratch)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .ok_or("apt-get download left no .deb")?;
    let unpacked = scratch.join("package");
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(&unpacked), "dpkg -x")?;
    let output = Command::new("gunzip")
        .arg("-c")
        .arg(unpacked.join(IMAGE_IN_PACKAGE))
        .output()
        .map_err(|e| format!("gunzip: {e}"))?;
    if !output.status.success() {
        return Err("gunzip of the Xen image failed".into());
    }
    let elf = scratch.join("xen.elf");
    std::fs::write(&elf, output.stdout)?;
    Ok(elf)
}

/// The QEMU command booting real Xen with `guest` as dom0 (QEMU's multiboot
/// loader): `dom0_mib` of memory, `guest_cmdline` as its
/// command line, CPU model `cpu`, serial on stdout, isa-debug-exit present.
///
/// Use `qemu64` for behaviour checks: with `-cpu max` (SMAP) Xen 4.17 under
/// TCG failed to write even the first exception bounce frame to a guest
/// stack and crashed dom0, on a frame xen-core and `qemu64` handle fine.
pub fn real_xen_command(
    xen: &std::path::Path,
    guest: &std::path::Path,
    guest_cmdline: &str,
    dom0_mib: u32,
    cpu: &str,
) -> Command {
    real_xen_command_with_module(xen, guest, guest_cmdline, None, dom0_mib, cpu)
}

/// [`real_xen_command`] with a boot module for dom0 (`module`, Xen's
/// second multiboot module: dom0's initrd).
pub fn real_xen_command_with_module(
    xen: &std::path::Path,
    guest: &std::path::Path,
    guest_cmdline: &str,
    module: Option<&std::path::Path>,
    dom0_mib: u32,
    cpu: &str,
) -> Command {
    let mut qemu = Command::new("qemu-system-x86_64");
    qemu.args([
        "-machine", "q35", "-accel", "tcg", "-cpu", cpu, "-m", "512M", "-smp", "1",
    ])
    .args([
        "-display",
        "none",
        "-nodefaults",
        "-no-reboot",
        "-serial",
        "stdio",
        "-monitor",
        "none",
    ])
    .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
    .arg("-kernel")
    .arg(xen)
    .arg("-append")
    .arg(format!(
        "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all dom0_mem={dom0_mib}M noreboot"
    ))
    .arg("-initrd")
    .arg(match module {
        // QEMU's multiboot loader separates modules with commas.
        Some(module) => format!("{} {guest_cmdline},{}", guest.display(), module.display()),
        None => format!("{} {guest_cmdline}", guest.display()),
    });
    qemu
}
