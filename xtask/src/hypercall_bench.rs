//! The hypercall benchmark: the same guest binary timed on xen-core and on
//! real Xen 4.17, under identical QEMU flags.
//!
//! `-icount shift=0,align=off` makes the guest's TSC advance one tick per
//! guest instruction, so the figures are instruction counts per call,
//! identical run to run, and independent of the host's load: not time.

use crate::Result;
use crate::bundle::{Bundle, Domain};
use crate::images::{Profile, build_images};
use crate::prerequisites::ensure_qemu;
use crate::qemu::QemuConfig;
use crate::real_xen::{ensure_real_xen, real_xen_command};
use std::path::PathBuf;
use std::process::Command;

/// What the bench guest measures as a lone dom0, on both hypervisors, as it
/// names the lines it prints.
pub const MEASURES: [&str; 16] = [
    "loop",
    "xen_version",
    "console_io",
    "sched_op_yield",
    "mmu_update_1",
    "mmu_update_16",
    "mmu_update_256",
    "update_va_mapping_invlpg",
    "tree_round_trip",
    "tree_unhook_call",
    "evtchn_loopback_round_trip",
    "evtchn_send_masked",
    "grant_map_unmap",
    "grant_copy_4k",
    "user_syscall_round_trip",
    "direct_pte_write",
];

/// What it measures beside a partner domain ([`BENCH_PAIR`]):
/// xen-core only, since the real-Xen run has dom0 alone.
pub const PAIR_MEASURES: [&str; 2] = ["evtchn_round_trip_two_domains", "sched_op_yield_two_domains"];

/// What a domU measures against dom0's services ([`XENSTORE_BENCH`]; its
/// lines reach the log through dom0's console backend).
pub const SERVICE_MEASURES: [&str; 1] = ["xenstore_read"];

/// The bench guest beside its partner domain, which echoes its events.
pub const BENCH_PAIR: Bundle = Bundle::new(
    "bench_pair",
    &[
        Domain::new("dom0", "bench", "memory=64M cmdline=partner=1"),
        Domain::new("echo", "bench", "memory=16M cmdline=role=echo"),
    ],
);

/// A domU timing its xenstore reads against dom0's services.
pub const XENSTORE_BENCH: Bundle = Bundle::new(
    "xenstore_bench",
    &[
        Domain::new("dom0", "dom0_services", "memory=16M"),
        Domain::new("bench", "xenstore_client", "memory=16M cmdline=role=bench"),
    ],
);

/// Instructions per call on each hypervisor, in [`MEASURES`] order.
pub struct HypercallFigures {
    /// On xen-core.
    pub xen_core: Vec<u64>,
    /// On real Xen 4.17.
    pub real_xen: Vec<u64>,
    /// On xen-core beside the partner, in [`PAIR_MEASURES`] order.
    pub xen_core_pair: Vec<u64>,
    /// On xen-core against dom0's services, in [`SERVICE_MEASURES`] order.
    pub xen_core_services: Vec<u64>,
}

/// Reads `bench <name>: <n> per ...` lines from a run's output.
fn figures(output: &str, measures: &[&str]) -> Result<Vec<u64>> {
    measures
        .iter()
        .map(|name| {
            let prefix = format!("bench {name}: ");
            output
                .lines()
                .find_map(|line| line.trim_end().split_once(prefix.as_str()).map(|(_, rest)| rest))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|number| number.parse().ok())
                .ok_or_else(|| format!("the bench guest printed no figure for {name}").into())
        })
        .collect()
}

fn run(mut command: Command) -> Result<String> {
    let output = command.output().map_err(|e| format!("qemu: {e}"))?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Boots the bench guest on both hypervisors and collects the figures.
pub fn measure() -> Result<HypercallFigures> {
    ensure_qemu()?;
    let images = build_images(Profile::Release)?;
    let icount = ["-icount".to_string(), "shift=0,align=off".to_string()];
    let ours = |bundle: PathBuf| {
        let mut config = QemuConfig::new(images.hypervisor.clone(), Some(bundle));
        config.cpu = "max".to_string();
        config.extra_args = icount.to_vec();
        config.command()
    };
    let alone = images.bundle_for("bench").ok_or("bench guest not built")?;
    let xen = ensure_real_xen()?;
    let guest = images.image_of("bench").ok_or("bench guest not built")?;
    let mut theirs = real_xen_command(&xen, guest, "debug-exit", 64, "max");
    theirs.args(&icount);
    Ok(HypercallFigures {
        xen_core: figures(&run(ours(alone))?, &MEASURES)?,
        real_xen: figures(&run(theirs)?, &MEASURES)?,
        xen_core_pair: figures(&run(ours(images.write(&BENCH_PAIR)?))?, &PAIR_MEASURES)?,
        xen_core_services: figures(&run(ours(images.write(&XENSTORE_BENCH)?))?, &SERVICE_MEASURES)?,
    })
}
