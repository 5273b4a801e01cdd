//! The QEMU command line every boot uses.

use std::path::PathBuf;
use std::process::Command;

/// How to boot the hypervisor under QEMU.
#[derive(Clone, Debug)]
pub struct QemuConfig {
    /// The hypervisor ELF (PVH entry note).
    pub hypervisor: PathBuf,
    /// The boot bundle, passed as the PVH module; `None` boots without one.
    pub bundle: Option<PathBuf>,
    /// The hypervisor command line.
    pub command_line: String,
    /// Guest RAM in MiB.
    pub memory_mib: u32,
    /// QEMU CPU model (`-cpu`).
    pub cpu: String,
    /// Start QEMU's gdbstub on tcp::1234 and wait for the debugger.
    pub gdb: bool,
    /// Arguments appended as they are.
    pub extra_args: Vec<String>,
}

impl QemuConfig {
    /// A config with the defaults: 128 MiB, no command line, no gdb.
    pub fn new(hypervisor: PathBuf, bundle: Option<PathBuf>) -> Self {
        QemuConfig {
            hypervisor,
            bundle,
            command_line: String::new(),
            memory_mib: 128,
            cpu: "qemu64".to_string(),
            gdb: false,
            extra_args: Vec::new(),
        }
    }

    /// The QEMU command: q35 under TCG, serial on stdout, isa-debug-exit for the
    /// verdict, `-no-reboot` so a triple fault ends the run (with status 0).
    ///
    /// TCG always: a host `/dev/kvm` may be a paravirtual KVM that boots kernels
    /// but cannot run a ring-0 hypervisor's guests correctly.
    pub fn command(&self) -> Command {
        let mut qemu = Command::new("qemu-system-x86_64");
        qemu.args(["-machine", "q35", "-accel", "tcg", "-cpu", &self.cpu])
            .args(["-m", &format!("{}M", self.memory_mib)])
            .args(["-display", "none", "-nodefaults", "-no-reboot"])
            .args(["-serial", "stdio", "-monitor", "none"])
            .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
            .arg("-kernel")
            .arg(&self.hypervisor)
            .args(["-append", &self.command_line]);
        if let Some(bundle) = &self.bundle {
            qemu.arg("-initrd").arg(bundle);
        }
        if self.gdb {
            qemu.args(["-s", "-S"]);
        }
        qemu.args(&self.extra_args);
        qemu
    }
}
