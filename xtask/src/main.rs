//! `cargo xtask`: build, run and test xen-core.

use clap::{Parser, Subcommand};
use std::process::{Command, ExitCode};
use std::time::Instant;
use xtask::bare_metal::{bare_metal_cargo, bare_metal_workspace};
use xtask::images::{Profile, build_guest_crate, build_images, bundle_for_guest};
use xtask::prerequisites::{
    BARE_METAL_TARGET, ensure_bare_metal_target, ensure_compressors, ensure_qemu, ensure_xen_headers,
};
use xtask::qemu::QemuConfig;
use xtask::rustflags::append_rustflags;
use xtask::{Result, workspace_root};

#[derive(Parser)]
#[command(about = "Build, run and test xen-core")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

/// Options of `cargo xtask run`.
#[derive(clap::Args)]
struct RunArgs {
    /// Boot unoptimised images.
    #[arg(long)]
    debug: bool,
    /// Start QEMU's gdbstub on tcp::1234, paused until a debugger continues.
    #[arg(long)]
    gdb: bool,
    /// The hypervisor command line, e.g. "loglvl=debug".
    #[arg(long, default_value = "")]
    cmdline: String,
    /// The machine's RAM in MiB (QEMU's -m).
    #[arg(long, default_value_t = 128)]
    memory: u32,
    /// Boot this guest as dom0 instead of the demo: a guest crate's
    /// directory (built for bare metal) or a guest ELF file.
    #[arg(long)]
    guest: Option<std::path::PathBuf>,
    /// Command line of the guest given with --guest.
    #[arg(long, default_value = "")]
    guest_cmdline: String,
    /// Memory in MiB of the guest given with --guest (dom0 here).
    #[arg(long, default_value_t = 32)]
    guest_memory: u32,
    /// A boot module (initrd) for the guest given with --guest, as
    /// xl.cfg's `ramdisk=`.
    #[arg(long)]
    module: Option<std::path::PathBuf>,
    /// Extra QEMU arguments, after `--`.
    #[arg(last = true)]
    qemu_args: Vec<String>,
}

#[derive(Subcommand)]
enum Task {
    /// Build the hypervisor, the guest images and the boot bundle.
    Build {
        /// Build unoptimised images (for stepping through in gdb).
        #[arg(long)]
        debug: bool,
    },
    /// Boot the hypervisor and the bundle in QEMU (TCG), serial on this terminal.
    Run(RunArgs),
    /// Everything CI runs: the tidy check, host tests, QEMU scenarios,
    /// clippy, rustfmt.
    Test,
    /// The tidy check alone: no Rust file over 600 lines, two lock files,
    /// one rustfmt.toml.
    Tidy,
    /// The guest-input fuzzer (xen-core's hypercalls from three hostile
    /// domUs, every invariant checked after every step), with fresh seeds.
    Fuzz {
        /// How long to run.
        #[arg(long, default_value_t = 5)]
        minutes: u64,
    },
    /// Benchmarks: hypercall costs against real Xen, and the rings (criterion).
    Bench {
        /// Which benchmarks: all, hypercalls (xen-core against real Xen) or rings.
        #[arg(default_value = "all")]
        which: String,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Task::Build { debug } => build(debug),
        Task::Run(args) => run(args),
        Task::Test => test(),
        Task::Tidy => tidy(),
        Task::Fuzz { minutes } => fuzz(minutes),
        Task::Bench { which } => bench(&which),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("xtask: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn profile(debug: bool) -> Profile {
    if debug { Profile::Debug } else { Profile::Release }
}

fn build(debug: bool) -> Result<ExitCode> {
    let images = build_images(profile(debug))?;
    println!("hypervisor: {}", images.hypervisor.display());
    println!("bundle:     {}", images.bundle.display());
    Ok(ExitCode::SUCCESS)
}

fn run(args: RunArgs) -> Result<ExitCode> {
    ensure_qemu()?;
    let profile = profile(args.debug);
    let images = build_images(profile)?;
    if args.guest.is_none() && args.module.is_some() {
        return Err("--module goes with --guest: the demo's domains take no module".into());
    }
    let bundle = match &args.guest {
        None => images.write(&xtask::demo::DEMO)?,
        Some(guest) => {
            let image = if guest.is_dir() {
                build_guest_crate(guest, profile)?
            } else {
                guest.clone()
            };
            bundle_for_guest(&image, args.guest_memory, &args.guest_cmdline, args.module.as_deref())?
        }
    };
    let mut config = QemuConfig::new(images.hypervisor.clone(), Some(bundle));
    config.command_line = args.cmdline;
    config.memory_mib = args.memory;
    config.gdb = args.gdb;
    config.extra_args = args.qemu_args;
    if args.gdb {
        eprintln!("xtask: QEMU waits for gdb on tcp::1234; in another terminal:");
        eprintln!("  gdb {} -ex 'target remote :1234'", images.hypervisor.display());
    }
    let status = config
        .command()
        .status()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;
    use xen_core::debug_exit::DebugExit;
    Ok(match DebugExit::from_qemu_status(status.code().unwrap_or(-1)) {
        Some(DebugExit::Success) => ExitCode::SUCCESS,
        Some(DebugExit::Failure) => {
            eprintln!("xtask: the hypervisor reported a failure");
            ExitCode::FAILURE
        }
        Some(DebugExit::GuestCrashed) => {
            eprintln!("xtask: dom0 crashed (the hypervisor itself is fine)");
            ExitCode::FAILURE
        }
        None => {
            eprintln!("xtask: QEMU ended without a verdict ({status}); status 0 is a triple fault");
            ExitCode::FAILURE
        }
    })
}

/// Runs one step of `cargo xtask test`, timing it.
fn step(name: &str, command: &mut Command) -> Result<()> {
    eprintln!("xtask test: {name}");
    let started = Instant::now();
    let status = command.status().map_err(|e| format!("{name}: {e}"))?;
    eprintln!(
        "xtask test: {name}: {} in {:.1} s",
        if status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed").into())
    }
}

fn host_cargo() -> Command {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo.current_dir(workspace_root());
    cargo
}

/// The tidy check, timed as a step.
fn tidy() -> Result<ExitCode> {
    let started = Instant::now();
    eprintln!("xtask test: tidy");
    xtask::tidy::check(&workspace_root())?;
    eprintln!("xtask test: tidy: ok in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

fn test() -> Result<ExitCode> {
    let started = Instant::now();
    tidy()?;
    ensure_bare_metal_target()?;
    ensure_qemu()?;
    ensure_xen_headers()?;
    ensure_compressors()?;
    eprintln!("xtask test: building images");
    build_images(Profile::Release)?;
    step(
        "host tests",
        host_cargo().args(["test", "--workspace", "--exclude", "tests"]),
    )?;
    let mut loom = host_cargo();
    loom.args(["test", "-p", "rings", "--test", "loom_notify", "--release"])
        .env("CARGO_TARGET_DIR", workspace_root().join("target").join("loom"));
    append_rustflags(&mut loom, &["--cfg", "loom"]);
    step("loom models (rings)", &mut loom)?;
    step("QEMU scenarios", host_cargo().args(["test", "-p", "tests"]))?;
    step(
        "clippy (host workspace)",
        host_cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
    )?;
    let mut clippy = bare_metal_cargo(&bare_metal_workspace());
    clippy.args([
        "clippy",
        "--workspace",
        "--target",
        BARE_METAL_TARGET,
        "--",
        "-D",
        "warnings",
    ]);
    step("clippy (bare-metal workspace)", &mut clippy)?;
    step(
        "rustfmt (host workspace)",
        host_cargo().args(["fmt", "--all", "--check"]),
    )?;
    step(
        "rustfmt (bare-metal workspace)",
        bare_metal_cargo(&bare_metal_workspace()).args(["fmt", "--check"]),
    )?;
    eprintln!("xtask test: all passed in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// Runs the fuzzer's long run for `minutes` in the test profile (xen-core is
/// optimised there and keeps its overflow checks, which a release build
/// drops); it prints how many cases and hypercalls ran, or the first broken
/// invariant with its seed and the shrunk sequence.
fn fuzz(minutes: u64) -> Result<ExitCode> {
    step(
        &format!("fuzzer ({minutes} min)"),
        host_cargo()
            .args([
                "test",
                "-p",
                "xen-core",
                "--lib",
                "fuzz::long_run",
                "--",
                "--ignored",
                "--nocapture",
            ])
            .env("XEN_CORE_FUZZ_SECONDS", (minutes * 60).to_string()),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the benchmarks: hypercall costs on xen-core and real Xen, then the
/// rings benchmarks (criterion).
fn bench(which: &str) -> Result<ExitCode> {
    if !matches!(which, "all" | "hypercalls" | "rings") {
        return Err(format!("unknown benchmark set {which:?}: use all, hypercalls or rings").into());
    }
    if which != "rings" {
        bench_hypercalls()?;
    }
    if which != "hypercalls" {
        bench_rings()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The hypercall table: the same guest on xen-core and on real Xen.
fn bench_hypercalls() -> Result<()> {
    let figures = xtask::hypercall_bench::measure()?;
    println!(
        "hypercall cost, guest instructions per call (mmu_update: per entry) (QEMU TCG -cpu max -icount shift=0,align=off):"
    );
    println!("{:<24} {:>9} {:>9} {:>7}", "measure", "xen-core", "Xen 4.17", "ratio");
    for (index, name) in xtask::hypercall_bench::MEASURES.iter().enumerate() {
        let (ours, theirs) = (figures.xen_core[index], figures.real_xen[index]);
        println!(
            "{name:<24} {ours:>9} {theirs:>9} {:>7.2}",
            ours as f64 / theirs.max(1) as f64
        );
    }
    for (name, ours) in xtask::hypercall_bench::PAIR_MEASURES.iter().zip(&figures.xen_core_pair) {
        println!("{name:<24} {ours:>9} {:>9} {:>7}", "-", "-");
    }
    for (name, ours) in xtask::hypercall_bench::SERVICE_MEASURES
        .iter()
        .zip(&figures.xen_core_services)
    {
        println!("{name:<24} {ours:>9} {:>9} {:>7}", "-", "-");
    }
    println!(
        "(two_domains: beside a partner domU; xenstore_read: a domU asking dom0's xenstored; xen-core only, the real-Xen run has dom0 alone)"
    );
    Ok(())
}

/// The rings benchmarks (criterion).
fn bench_rings() -> Result<()> {
    ensure_xen_headers()?;
    let status = host_cargo()
        .args(["bench", "-p", "rings"])
        .status()
        .map_err(|e| format!("cargo bench: {e}"))?;
    if !status.success() {
        return Err("cargo bench -p rings failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), Into::into);
    println!("report: {}", target.join("criterion/report/index.html").display());
    println!("results are recorded in docs/benchmarks.md");
    Ok(())
}
