//! Real Xen, as an oracle: Debian's Xen 4.17 hypervisor, fetched on demand.
//!
//! Booting the same guest binary on real Xen and on xen-core is how we know
//! guest-sdk makes real Xen PV guests. The hypervisor comes from Debian's
//! `xen-hypervisor-4.17-amd64` package, downloaded (not installed) and
//! unpacked under `target/real-xen`; nothing of it is ever committed.

use crate::{Result, workspace_root};
use std::path::PathBuf;
use std::process::Command;

/// The Debian package holding the hypervisor.
const PACKAGE: &str = "xen-hypervisor-4.17-amd64";
/// The gzipped hypervisor inside the package.
const IMAGE_IN_PACKAGE: &str = "boot/xen-4.17-amd64.gz";

/// Returns the path of the unpacked Xen ELF, fetching it first if needed.
pub fn ensure_real_xen() -> Result<PathBuf> {
    let directory = workspace_root().join("target").join("real-xen");
    let image = directory.join("xen-4.17.elf");
    if image.exists() {
        return Ok(image);
    }
    std::fs::create_dir_all(&directory)?;
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
            .current_dir(&directory),
        &format!("apt-get download {PACKAGE} (needs Debian's package lists: apt-get update)"),
    )?;
    let deb = std::fs::read_dir(&directory)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .ok_or("apt-get download left no .deb")?;
    let unpacked = directory.join("package");
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(&unpacked), "dpkg -x")?;
    let output = Command::new("gunzip")
        .arg("-c")
        .arg(unpacked.join(IMAGE_IN_PACKAGE))
        .output()
        .map_err(|e| format!("gunzip: {e}"))?;
    if !output.status.success() {
        return Err("gunzip of the Xen image failed".into());
    }
    std::fs::write(&image, output.stdout)?;
    Ok(image)
}

/// The QEMU command booting real Xen with `guest` as dom0 (QEMU's multiboot
/// loader; boot-and-build §11): `dom0_mib` of memory, `guest_cmdline` as its
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
    .arg(format!("{} {guest_cmdline}", guest.display()));
    qemu
}
