//! What a boot needs: the hypervisor, the example guests' images and the
//! boot bundles made of them.

use crate::bare_metal::build_bare_metal;
use crate::bundle::{Bundle, Domain, write_bundle};
use crate::{Result, workspace_root};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

pub use crate::bare_metal::{Profile, build_guest_crate};

/// The guest a boot without a bundle of its own boots as dom0.
pub const DEFAULT_GUEST: &str = "hello";

/// How a guest booted alone as dom0 is set up: its memory and command line.
pub const ALONE_AS_DOM0: &str = "memory=32M cmdline=hello from the boot bundle";

/// The built images, and the bundles written from them.
#[derive(Debug)]
pub struct Images {
    /// Which profile they were built with.
    pub profile: Profile,
    /// The hypervisor ELF, booted with QEMU's `-kernel` (PVH entry).
    pub hypervisor: PathBuf,
    /// The default boot bundle, [`DEFAULT_GUEST`] alone as dom0, passed as
    /// the PVH module with `-initrd`.
    pub bundle: PathBuf,
    /// Each example guest's ELF image, by name, sorted by name.
    pub guest_images: Vec<(String, PathBuf)>,
    /// The manifest of each bundle written, by bundle name: two scenarios
    /// must not give one name to different bundles.
    written: Mutex<HashMap<String, String>>,
}

impl Images {
    /// The ELF image of example guest `guest`.
    pub fn image_of(&self, guest: &str) -> Option<&PathBuf> {
        self.guest_images
            .iter()
            .find(|(name, _)| name == guest)
            .map(|(_, path)| path)
    }

    /// The names of the example guests.
    pub fn guest_names(&self) -> impl Iterator<Item = &str> {
        self.guest_images.iter().map(|(name, _)| name.as_str())
    }

    /// The bundle booting example guest `guest` alone as dom0
    /// ([`ALONE_AS_DOM0`]), written by [`build_images`].
    pub fn bundle_for(&self, guest: &str) -> Option<PathBuf> {
        self.image_of(guest)?;
        Some(self.path_of(guest))
    }

    /// Writes `bundle` (its manifest and the images of the guests it names)
    /// under `target/bundle` and returns its path.
    pub fn write(&self, bundle: &Bundle) -> Result<PathBuf> {
        self.write_with_files(bundle, &[])
    }

    /// Writes `bundle` as [`Images::write`] does, with `extra` files (boot
    /// modules its manifest names with `ramdisk=`) after the images.
    pub fn write_with_files(&self, bundle: &Bundle, extra: &[(&str, &[u8])]) -> Result<PathBuf> {
        let manifest = bundle.manifest();
        {
            let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
            let earlier = written
                .entry(bundle.name.to_string())
                .or_insert_with(|| manifest.clone());
            if *earlier != manifest {
                return Err(format!("two different bundles are named {:?}", bundle.name).into());
            }
        }
        let mut files = Vec::new();
        for guest in bundle.guests() {
            let image = self.image_of(guest).ok_or_else(|| {
                let known: Vec<&str> = self.guest_names().collect();
                format!(
                    "bundle {}: no example guest {guest:?} (a folder of guest-sdk/examples/); there are {}",
                    bundle.name,
                    known.join(", ")
                )
            })?;
            let bytes = std::fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
            files.push((format!("{guest}.elf"), bytes));
        }
        let members: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
            .chain(extra.iter().copied())
            .collect();
        let path = self.path_of(bundle.name);
        write_bundle(&path, &manifest, &members)?;
        Ok(path)
    }

    /// Where bundle `name` of this profile is written.
    fn path_of(&self, name: &str) -> PathBuf {
        bundle_directory().join(format!("{name}-{}.tar", self.profile.name()))
    }
}

/// Where bundles are written.
fn bundle_directory() -> PathBuf {
    workspace_root().join("target").join("bundle")
}

/// Writes a bundle booting the guest ELF at `image` (any guest, e.g. one
/// outside the tree) as dom0 with `memory_mib`, `cmdline` and the boot
/// module in the file `module`, if any.
pub fn bundle_for_guest(image: &Path, memory_mib: u32, cmdline: &str, module: Option<&Path>) -> Result<PathBuf> {
    let name = image.file_name().and_then(|name| name.to_str()).unwrap_or("guest");
    let bytes = std::fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
    let module_bytes = match module {
        Some(path) => Some(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => None,
    };
    let ramdisk = if module.is_some() { " ramdisk=module" } else { "" };
    let settings = format!("memory={memory_mib}M{ramdisk} cmdline={cmdline}");
    let domains = [Domain::new("dom0", name, &settings)];
    let path = bundle_directory().join(format!("custom-{name}.tar"));
    let file = format!("{name}.elf");
    let mut files = vec![(file.as_str(), bytes.as_slice())];
    if let Some(module) = &module_bytes {
        files.push(("module", module.as_slice()));
    }
    write_bundle(&path, &Bundle::new(name, &domains).manifest(), &files)?;
    Ok(path)
}

/// Builds the hypervisor and every example guest, and writes for each guest
/// the bundle booting it alone as dom0 (`target/bundle/<guest>-<profile>.tar`).
pub fn build_images(profile: Profile) -> Result<Images> {
    let built = build_bare_metal(profile)?;
    let images = Images {
        profile,
        hypervisor: built.hypervisor,
        bundle: PathBuf::new(),
        guest_images: built.guests,
        written: Mutex::new(HashMap::new()),
    };
    let names: Vec<String> = images.guest_names().map(str::to_string).collect();
    for guest in &names {
        let domains = [Domain::new("dom0", guest, ALONE_AS_DOM0)];
        images.write(&Bundle::new(guest, &domains))?;
    }
    let bundle = images
        .bundle_for(DEFAULT_GUEST)
        .ok_or_else(|| format!("no example guest {DEFAULT_GUEST}, the default dom0"))?;
    Ok(Images { bundle, ..images })
}
