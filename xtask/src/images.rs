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
    /// The default boot bundle (the first of [`GUESTS`] as dom0), passed as
    /// the PVH module with `-initrd`.
    pub bundle: PathBuf,
    /// One bundle per example guest, by guest name.
    pub guest_bundles: Vec<(String, PathBuf)>,
    /// Each guest's ELF image, by name (e.g. to boot on real Xen).
    pub guest_images: Vec<(String, PathBuf)>,
}

impl Images {
    /// The bundle that boots `guest` as dom0.
    pub fn bundle_for(&self, guest: &str) -> Option<&PathBuf> {
        self.guest_bundles
            .iter()
            .find(|(name, _)| name == guest)
            .map(|(_, path)| path)
    }

    /// The ELF image of `guest`.
    pub fn image_of(&self, guest: &str) -> Option<&PathBuf> {
        self.guest_images
            .iter()
            .find(|(name, _)| name == guest)
            .map(|(_, path)| path)
    }
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

/// The example guests under `guest-sdk/examples/`, each booted as dom0 of its
/// own bundle; the first is the default guest of `cargo xtask run`.
pub const GUESTS: [&str; 16] = [
    "hello",
    "divide_by_zero",
    "abi_checks",
    "bench",
    "compat_syscall",
    "single_step",
    "address_space",
    "attacker",
    "dom_exc_watch",
    "ping_pong",
    "time_share",
    "console_input",
    "grant_demo",
    "dom0_services",
    "console_client",
    "xenstore_client",
];

/// The bundle `cargo xtask run` boots without `--guest`.
pub const DEMO_BUNDLE: &str = "demo";

/// One domain of a multi-domain bundle: name, guest, further manifest fields.
pub type BundledDomain = (&'static str, &'static str, &'static str);

/// Bundles of several domains, by scenario name: each domain's name, its
/// guest (one of [`GUESTS`]) and the rest of its manifest line. The first
/// is dom0.
pub const MULTI_DOMAIN_BUNDLES: [(&str, &[BundledDomain]); 12] = [
    // What `cargo xtask run` boots: dom0's services and two domUs using them.
    (
        DEMO_BUNDLE,
        &[
            ("dom0", "dom0_services", "memory=16M"),
            ("console", "console_client", "memory=16M"),
            ("store", "xenstore_client", "memory=16M cmdline=role=client"),
        ],
    ),
    (
        "domu_crash",
        &[
            ("dom0", "dom_exc_watch", "memory=32M"),
            ("crasher", "divide_by_zero", "memory=16M"),
        ],
    ),
    (
        "ping_pong_crash",
        &[
            ("dom0", "ping_pong", "memory=16M cmdline=role=referee rounds=1000"),
            ("ping", "ping_pong", "memory=16M cmdline=role=ping rounds=1000"),
            ("pong", "ping_pong", "memory=16M cmdline=role=pong rounds=1000"),
            ("crasher", "ping_pong", "memory=16M cmdline=role=crasher"),
        ],
    ),
    (
        "timers_and_shares",
        &[
            (
                "dom0",
                "time_share",
                // Boot with an instruction clock (`-icount`, as its scenario's
                // `Boot::with_instruction_clock` does): wake-ups then come a few
                // microseconds after their deadlines. On host time they can be
                // milliseconds late, and this limit fails.
                "memory=16M cmdline=role=sleeper tolerance_us=50",
            ),
            (
                "spin256",
                "time_share",
                "memory=16M weight=256 cmdline=role=spinner until_ms=1500",
            ),
            (
                "spin512",
                "time_share",
                "memory=16M weight=512 cmdline=role=spinner until_ms=1500",
            ),
            ("blocker", "time_share", "memory=16M cmdline=role=blocker"),
        ],
    ),
    (
        "grant_map",
        &[
            ("dom0", "grant_demo", "memory=16M cmdline=role=mapper"),
            ("granter", "grant_demo", "memory=16M cmdline=role=granter"),
        ],
    ),
    (
        "pv_console",
        &[
            ("dom0", "dom0_services", "memory=16M"),
            ("client", "console_client", "memory=16M"),
        ],
    ),
    (
        "xenstore",
        &[
            ("dom0", "dom0_services", "memory=16M"),
            ("client", "xenstore_client", "memory=16M cmdline=role=client"),
            ("hostile", "xenstore_client", "memory=16M cmdline=role=hostile"),
        ],
    ),
    (
        "xenstore_flood",
        &[
            ("dom0", "dom0_services", "memory=16M"),
            ("client", "xenstore_client", "memory=16M cmdline=role=client rounds=20"),
            ("flood", "xenstore_client", "memory=16M cmdline=role=flood"),
        ],
    ),
    (
        "xenbus",
        &[
            ("dom0", "dom0_services", "memory=16M"),
            ("frontend", "xenstore_client", "memory=16M cmdline=role=xenbus"),
            ("liar", "xenstore_client", "memory=16M cmdline=role=xenbus-hostile"),
        ],
    ),
    (
        "base_switch_attack",
        &[
            ("dom0", "dom0_services", "memory=16M"),
            ("console", "console_client", "memory=16M"),
            ("attacker", "attacker", "memory=16M cmdline=role=base-switch"),
        ],
    ),
    (
        "xenstore_bench",
        &[
            ("dom0", "dom0_services", "memory=16M"),
            ("bench", "xenstore_client", "memory=16M cmdline=role=bench"),
        ],
    ),
    (
        "bench_pair",
        &[
            ("dom0", "bench", "memory=64M cmdline=partner=1"),
            ("echo", "bench", "memory=16M cmdline=role=echo"),
        ],
    ),
];

/// Every bare-metal crate, for tools that walk them all (clippy, fmt).
pub fn bare_metal_crates() -> Vec<String> {
    let guests = GUESTS.iter().map(|guest| format!("guest-sdk/examples/{guest}"));
    std::iter::once(HYPERVISOR.directory.to_string())
        .chain(guests)
        .collect()
}

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
    build_crate(krate.directory, krate.binary, profile)
}

fn build_crate(relative: &str, binary: &str, profile: Profile) -> Result<PathBuf> {
    let directory = workspace_root().join(relative);
    let mut cargo = bare_metal_cargo(&directory);
    cargo.args(["build", "--quiet", "--target", BARE_METAL_TARGET]);
    if profile == Profile::Release {
        cargo.arg("--release");
    }
    let status = cargo.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building {relative} failed").into());
    }
    Ok(bare_metal_target_dir()
        .join(BARE_METAL_TARGET)
        .join(profile.directory())
        .join(binary))
}

/// The manifest of a bundle booting `guest` as dom0.
fn manifest_for(guest: &str, memory_mib: u32, cmdline: &str) -> String {
    format!(
        "# xen-core boot manifest, written by `cargo xtask build`.\n\
         xen-core-manifest 1\n\
         domain dom0 kernel={guest}.elf memory={memory_mib}M cmdline={cmdline}\n"
    )
}

/// Name of the bundle that boots hello as real Xen's oracle scenario does:
/// 64 MiB (Xen's `dom0_mem=64M`) and `debug-exit` on its command line.
pub const HELLO_AS_ON_REAL_XEN: &str = "hello-debug-exit";
/// Likewise for abi_checks, limited to what real Xen offers too.
pub const ABI_CHECKS_AS_ON_REAL_XEN: &str = "abi_checks-portable";
/// The command line the oracle scenario gives abi_checks on both hypervisors.
pub const ABI_CHECKS_PORTABLE_CMDLINE: &str = "portable debug-exit";

/// Builds the bare-metal crate in `directory` (e.g. a guest kernel outside
/// the tree) and returns its executable, as cargo reports it.
pub fn build_guest_crate(directory: &Path, profile: Profile) -> Result<PathBuf> {
    ensure_bare_metal_target()?;
    let mut cargo = bare_metal_cargo(directory);
    cargo.args([
        "build",
        "--quiet",
        "--target",
        BARE_METAL_TARGET,
        "--message-format=json",
    ]);
    if profile == Profile::Release {
        cargo.arg("--release");
    }
    let output = cargo
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("building {} failed", directory.display()).into());
    }
    // Cargo's JSON messages name each built executable; take the last.
    let messages = String::from_utf8_lossy(&output.stdout);
    let executable = messages
        .lines()
        .filter_map(|line| line.split("\"executable\":\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .next_back()
        .ok_or_else(|| format!("{} built no executable", directory.display()))?;
    Ok(PathBuf::from(executable))
}

/// Writes a bundle booting the guest ELF at `image` as dom0.
pub fn bundle_for_guest(image: &Path, memory_mib: u32, cmdline: &str) -> Result<PathBuf> {
    let name = image.file_name().and_then(|name| name.to_str()).unwrap_or("guest");
    let bytes = std::fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
    let bundle = workspace_root()
        .join("target")
        .join("bundle")
        .join(format!("custom-{name}.tar"));
    bundle::write_bundle(
        &bundle,
        &manifest_for(name, memory_mib, cmdline),
        &[(&format!("{name}.elf"), &bytes)],
    )?;
    Ok(bundle)
}

/// Builds the hypervisor and the guest images and writes the boot bundles.
pub fn build_images(profile: Profile) -> Result<Images> {
    ensure_bare_metal_target()?;
    let hypervisor = build(&HYPERVISOR, profile)?;
    let bundles = workspace_root().join("target").join("bundle");
    let mut guest_bundles = Vec::new();
    let mut guest_images = Vec::new();
    for guest in GUESTS {
        let elf = build_crate(&format!("guest-sdk/examples/{guest}"), guest, profile)?;
        let image = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
        let bundle = bundles.join(format!("{guest}-{}.tar", profile.directory()));
        let name = format!("{guest}.elf");
        bundle::write_bundle(
            &bundle,
            &manifest_for(guest, 32, "hello from the boot bundle"),
            &[(&name, &image)],
        )?;
        let oracle = match guest {
            "hello" => Some((HELLO_AS_ON_REAL_XEN, "debug-exit")),
            "abi_checks" => Some((ABI_CHECKS_AS_ON_REAL_XEN, ABI_CHECKS_PORTABLE_CMDLINE)),
            _ => None,
        };
        if let Some((oracle_name, cmdline)) = oracle {
            let path = bundles.join(format!("{oracle_name}-{}.tar", profile.directory()));
            bundle::write_bundle(&path, &manifest_for(guest, 64, cmdline), &[(&name, &image)])?;
            guest_bundles.push((oracle_name.to_string(), path));
        }
        guest_bundles.push((guest.to_string(), bundle));
        guest_images.push((guest.to_string(), elf));
    }
    for (scenario, domains) in MULTI_DOMAIN_BUNDLES {
        let mut manifest =
            String::from("# xen-core boot manifest, written by `cargo xtask build`.\nxen-core-manifest 1\n");
        let mut files = Vec::new();
        for (name, guest, settings) in domains {
            manifest.push_str(&format!("domain {name} kernel={guest}.elf {settings}\n"));
            let (_, elf) = guest_images
                .iter()
                .find(|(built, _)| built == guest)
                .ok_or_else(|| format!("bundle {scenario}: no guest {guest}"))?;
            let image = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
            if !files
                .iter()
                .any(|(file, _): &(String, Vec<u8>)| *file == format!("{guest}.elf"))
            {
                files.push((format!("{guest}.elf"), image));
            }
        }
        let path = bundles.join(format!("{scenario}-{}.tar", profile.directory()));
        let members: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
            .collect();
        bundle::write_bundle(&path, &manifest, &members)?;
        guest_bundles.push((scenario.to_string(), path));
    }
    let bundle = guest_bundles
        .iter()
        .find(|(name, _)| name == GUESTS[0])
        .map(|(_, path)| path.clone());
    let bundle = bundle.ok_or("no bundle for the default guest")?;
    Ok(Images {
        hypervisor,
        bundle,
        guest_bundles,
        guest_images,
    })
}
