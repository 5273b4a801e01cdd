//! The bare-metal workspace (`bare-metal/Cargo.toml`): the hypervisor image
//! and every example guest, built for [`BARE_METAL_TARGET`] with one
//! `Cargo.lock`, apart from the host workspace.
//!
//! Nothing here lists the guests: every folder of `guest-sdk/examples/` that
//! is a crate is a member (the workspace's glob), and the guests are what
//! cargo reports it built there.

use crate::prerequisites::{BARE_METAL_TARGET, ensure_bare_metal_target};
use crate::{Result, workspace_root};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Which images to build: for stepping through in gdb, or for running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Unoptimised, for stepping through in gdb.
    Debug,
    /// Optimised, with debug info: the default for runs and tests.
    Release,
}

impl Profile {
    /// The cargo profile the hypervisor is built with (see
    /// `bare-metal/Cargo.toml`: its optimised build has fat LTO, which cargo
    /// cannot set for one package of a workspace).
    fn hypervisor(self) -> &'static str {
        match self {
            Profile::Debug => "dev",
            Profile::Release => "hypervisor",
        }
    }

    /// The cargo profile the guests are built with.
    fn guests(self) -> &'static str {
        match self {
            Profile::Debug => "dev",
            Profile::Release => "release",
        }
    }

    /// Its name in file names (`target/bundle/hello-release.tar`).
    pub fn name(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

/// The bare-metal workspace's folder.
pub fn bare_metal_workspace() -> PathBuf {
    workspace_root().join("bare-metal")
}

/// Where bare-metal builds go: apart from the host workspace's target dir.
pub fn bare_metal_target_dir() -> PathBuf {
    workspace_root().join("target").join("bare-metal")
}

/// A cargo for bare-metal builds, run in `directory`.
///
/// The user's `RUSTFLAGS` (or `CARGO_ENCODED_RUSTFLAGS`) reach it as they
/// are: the images take their link arguments from build scripts, not from
/// flags, so xtask has none to add. `CARGO_TARGET_DIR` is set, so that the
/// images are where the runner and the bundles look for them.
pub fn bare_metal_cargo(directory: &Path) -> Command {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(directory)
        .env("CARGO_TARGET_DIR", bare_metal_target_dir());
    cargo
}

/// The hypervisor and the example guests, as built.
pub struct BareMetalImages {
    /// The hypervisor ELF.
    pub hypervisor: PathBuf,
    /// Each example guest's ELF by its name (its binary's, its folder's),
    /// sorted by name.
    pub guests: Vec<(String, PathBuf)>,
}

/// Builds the bare-metal workspace: the hypervisor and every example guest.
///
/// Cargo unifies the features of everything one run builds, so one run
/// builds the members whose dependencies are declared alike: had one run
/// built all guests, dom0_services' `guest-sdk/heap` would have given every
/// guest a heap. Today that is one run for the hypervisor (its own
/// dependencies, and for optimised images its own profile) and three for
/// the guests, over the workspace's one lock and one target directory.
pub fn build_bare_metal(profile: Profile) -> Result<BareMetalImages> {
    ensure_bare_metal_target()?;
    announce_user_rustflags();
    let workspace = bare_metal_workspace();
    let kernel = canonical(&workspace_root().join("xen-core").join("kernel"));
    let examples = canonical(&workspace_root().join("guest-sdk").join("examples"));
    let mut runs: BTreeMap<(&str, String), Vec<String>> = BTreeMap::new();
    for member in members(&workspace)? {
        let cargo_profile = if member.manifest_dir == kernel {
            profile.hypervisor()
        } else {
            profile.guests()
        };
        runs.entry((cargo_profile, member.dependencies))
            .or_default()
            .push(member.name);
    }
    let mut hypervisor = None;
    let mut guests = Vec::new();
    for ((cargo_profile, _), packages) in runs {
        let mut cargo = bare_metal_cargo(&workspace);
        cargo.args(["build", "--profile", cargo_profile]);
        for package in &packages {
            cargo.args(["--package", package]);
        }
        for executable in built_executables(cargo, &workspace)? {
            if executable.manifest_dir == kernel {
                hypervisor = Some(executable.path);
            } else if executable.manifest_dir.parent() == Some(examples.as_path()) {
                guests.push((executable.binary, executable.path));
            }
        }
    }
    guests.sort();
    let hypervisor = hypervisor.ok_or("the bare-metal build made no hypervisor image")?;
    Ok(BareMetalImages { hypervisor, guests })
}

/// A member of the bare-metal workspace.
struct Member {
    /// Its package name.
    name: String,
    /// The folder of its Cargo.toml.
    manifest_dir: PathBuf,
    /// Its dependencies and features as declared (dev-dependencies left
    /// out), in a canonical text: equal for members cargo may build together.
    dependencies: String,
}

/// The members of the workspace in `directory`, from `cargo metadata`.
fn members(directory: &Path) -> Result<Vec<Member>> {
    let output = bare_metal_cargo(directory)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed in {}", directory.display()).into());
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let packages = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata listed no packages")?;
    let mut members = Vec::new();
    for package in packages {
        let (Some(name), Some(manifest)) = (package["name"].as_str(), package["manifest_path"].as_str()) else {
            return Err("cargo metadata: a package without a name or manifest".into());
        };
        let mut dependencies: Vec<String> = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|dependency| dependency["kind"] != "dev")
            .map(|dependency| {
                let mut dependency = dependency.clone();
                if let Some(features) = dependency["features"].as_array_mut() {
                    features.sort_by_key(|feature| feature.to_string());
                }
                dependency.to_string()
            })
            .collect();
        dependencies.sort();
        dependencies.push(package["features"].to_string());
        members.push(Member {
            name: name.to_string(),
            manifest_dir: Path::new(manifest).parent().map(canonical).unwrap_or_default(),
            dependencies: dependencies.join("\n"),
        });
    }
    Ok(members)
}

/// Builds the bare-metal crate in `directory` (e.g. a guest kernel outside
/// the tree) and returns its executable, as cargo reports it.
pub fn build_guest_crate(directory: &Path, profile: Profile) -> Result<PathBuf> {
    ensure_bare_metal_target()?;
    announce_user_rustflags();
    let mut cargo = bare_metal_cargo(directory);
    cargo.args(["build", "--profile", profile.guests()]);
    built_executables(cargo, directory)?
        .pop()
        .map(|executable| executable.path)
        .ok_or_else(|| format!("{} built no executable", directory.display()).into())
}

/// Says, once per process, that the user's flags reach the bare-metal build.
fn announce_user_rustflags() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    for variable in ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS"] {
        if let Some(flags) = std::env::var_os(variable).filter(|flags| !flags.is_empty()) {
            ONCE.call_once(|| {
                eprintln!("xtask: the bare-metal images are built with your {variable}={flags:?}");
            });
            return;
        }
    }
}

/// An executable cargo built.
struct Executable {
    /// Its binary target's name.
    binary: String,
    /// The folder of its package's Cargo.toml.
    manifest_dir: PathBuf,
    /// The ELF.
    path: PathBuf,
}

/// Runs a `cargo build` for [`BARE_METAL_TARGET`] and returns the
/// executables it built (or found fresh), from cargo's JSON messages.
fn built_executables(mut cargo: Command, what: &Path) -> Result<Vec<Executable>> {
    cargo
        .args(["--quiet", "--target", BARE_METAL_TARGET])
        .arg("--message-format=json-render-diagnostics")
        .stderr(Stdio::inherit());
    let output = cargo.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("building {} failed", what.display()).into());
    }
    let mut executables = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let text = |value: &serde_json::Value| value.as_str().map(str::to_string);
        let (Some(path), Some(binary), Some(manifest)) = (
            text(&message["executable"]),
            text(&message["target"]["name"]),
            text(&message["manifest_path"]),
        ) else {
            continue;
        };
        let manifest_dir = Path::new(&manifest).parent().map(canonical).unwrap_or_default();
        executables.push(Executable {
            binary,
            manifest_dir,
            path: PathBuf::from(path),
        });
    }
    Ok(executables)
}

/// `path` with symbolic links resolved, to compare with cargo's paths.
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}
