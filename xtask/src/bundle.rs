//! Boot bundles: a POSIX ustar archive holding `manifest` and the domain
//! images, readable with `tar tvf`, and [`Bundle`], the bundle as a scenario
//! declares it beside its test.

use crate::Result;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The first lines of every manifest xtask writes (the same bytes as ever,
/// so that a bundle's size, and the memory map around it, stay put).
const MANIFEST_HEADER: &str = "# xen-core boot manifest, written by `cargo xtask build`.\nxen-core-manifest 1\n";

/// One domain of a [`Bundle`]: one `domain` line of its manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Domain<'a> {
    /// The domain's name in the manifest (`dom0`, `ping`, ...).
    pub name: &'a str,
    /// The example guest it boots: a folder of `guest-sdk/examples/`, whose
    /// image travels in the bundle as `<guest>.elf`.
    pub guest: &'a str,
    /// The rest of its manifest line: `memory=`, `weight=`, `cap=`, and
    /// last `cmdline=` (which takes the rest of the line).
    pub settings: &'a str,
}

impl<'a> Domain<'a> {
    /// Domain `name` booting example guest `guest` with `settings`.
    pub const fn new(name: &'a str, guest: &'a str, settings: &'a str) -> Self {
        Domain { name, guest, settings }
    }

    /// The command line its settings give it (empty without `cmdline=`).
    pub fn cmdline(&self) -> &'a str {
        self.settings.split_once("cmdline=").map_or("", |(_, cmdline)| cmdline)
    }

    /// Its `domain` line.
    fn manifest_line(&self) -> String {
        format!("domain {} kernel={}.elf {}\n", self.name, self.guest, self.settings)
    }
}

/// A boot bundle as a scenario declares it, beside the test that boots it:
/// its domains (the first is dom0) and the name its file is written under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bundle<'a> {
    /// Names the file: `target/bundle/<name>-<profile>.tar`. Unique.
    pub name: &'a str,
    /// The domains in manifest order; the first is dom0.
    pub domains: &'a [Domain<'a>],
}

impl<'a> Bundle<'a> {
    /// The bundle `name` booting `domains`, dom0 first.
    pub const fn new(name: &'a str, domains: &'a [Domain<'a>]) -> Self {
        Bundle { name, domains }
    }

    /// Its manifest, as the hypervisor reads it.
    pub fn manifest(&self) -> String {
        let lines = self.domains.iter().map(Domain::manifest_line);
        std::iter::once(MANIFEST_HEADER.to_string()).chain(lines).collect()
    }

    /// The example guests it boots, each once, in order of first use.
    pub fn guests(&self) -> Vec<&'a str> {
        let mut guests: Vec<&str> = Vec::new();
        for domain in self.domains {
            if !guests.contains(&domain.guest) {
                guests.push(domain.guest);
            }
        }
        guests
    }
}

/// Writes a bundle with `manifest` first, then `files` in order.
///
/// Headers carry fixed owners and times so the same inputs give the same
/// bytes. The archive is written aside and renamed into place, so a scenario
/// booting it never reads one half written by another.
pub fn write_bundle(path: &Path, manifest: &str, files: &[(&str, &[u8])]) -> Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let write = WRITES.fetch_add(1, Ordering::Relaxed);
    let aside = path.with_extension(format!("tar.{}-{write}.part", std::process::id()));
    let output = std::fs::File::create(&aside).map_err(|e| format!("{}: {e}", aside.display()))?;
    let mut archive = tar::Builder::new(output);
    let members = std::iter::once(("manifest", manifest.as_bytes())).chain(files.iter().copied());
    for (name, data) in members {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        archive.append_data(&mut header, name, data)?;
    }
    archive.into_inner()?.sync_all()?;
    std::fs::rename(&aside, path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIR: Bundle = Bundle::new(
        "pair",
        &[
            Domain::new("dom0", "ping_pong", "memory=16M cmdline=role=referee rounds=10"),
            Domain::new("ping", "ping_pong", "memory=16M"),
            Domain::new("other", "hello", "memory=16M cmdline="),
        ],
    );

    #[test]
    fn a_manifest_has_the_header_and_one_line_per_domain_naming_its_guest_image() {
        assert_eq!(
            PAIR.manifest(),
            "# xen-core boot manifest, written by `cargo xtask build`.\nxen-core-manifest 1\n\
             domain dom0 kernel=ping_pong.elf memory=16M cmdline=role=referee rounds=10\n\
             domain ping kernel=ping_pong.elf memory=16M\n\
             domain other kernel=hello.elf memory=16M cmdline=\n"
        );
    }

    #[test]
    fn each_guest_is_packed_once() {
        assert_eq!(PAIR.guests(), ["ping_pong", "hello"]);
    }

    #[test]
    fn the_command_line_is_the_rest_of_the_line_after_cmdline() {
        assert_eq!(PAIR.domains[0].cmdline(), "role=referee rounds=10");
        assert_eq!(PAIR.domains[1].cmdline(), "");
    }
}
