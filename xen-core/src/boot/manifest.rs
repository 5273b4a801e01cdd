//! The boot bundle's manifest: which domains to build at boot, and how.
//!
//! The manifest is the UTF-8 text file `manifest` in the bundle archive:
//!
//! ```text
//! # comments and blank lines are ignored
//! xen-core-manifest 1
//! domain dom0 kernel=dom0.elf memory=64M
//! domain demo kernel=hello.elf memory=16M cmdline=console=hvc0 loglevel=3
//! ```
//!
//! - Lines end with `\n` or `\r\n`. A line whose first non-blank character is `#`
//!   is a comment; there are no comments at the end of a line, since a command line
//!   may contain `#`.
//! - The first other line must be `xen-core-manifest 1`: the format's name and
//!   version, so that a bundle made for a different format is refused plainly.
//! - Every further line is `domain <name> key=value...`, fields separated by
//!   blanks:
//!   - `kernel=<file>` (required): the ELF image, a file name in the archive.
//!   - `memory=<n>K|M|G` (default `32M`): decimal, unit required (so that a
//!     forgotten unit is not read as bytes), a whole number of 4 KiB pages, more
//!     than 0 and at most 64 GiB.
//!   - `maxmem=<n>K|M|G` (default: `memory=`): what a domU may grow to by
//!     ballooning (its `max_pages`, plus libxl's 1 MiB of slack), at least
//!     its memory, as xl.cfg's `maxmem=`. dom0 has no limit, as on Xen
//!     without `dom0_mem=max:`.
//!   - `ramdisk=<file>` (default none): the boot module (initrd), a file name
//!     in the archive, placed as Xen's builder places it (after the kernel,
//!     or by frame number for a guest with the MOD_START_PFN note) and named
//!     in `start_info.mod_start`/`mod_len`.
//!   - `weight=<n>` (default 256): the scheduler weight, 1 to 65535; CPU time
//!     is shared in proportion to weights.
//!   - `cap=<n>` (default 0, none): the most CPU the domain may use, in percent
//!     of one CPU, 0 to 100.
//!   - `cmdline=<text>` (default empty): must come last, and takes the rest of the
//!     line verbatim, blanks and `=` included; at most 1023 bytes, so that it fits
//!     with its NUL in the 1024-byte `cmd_line` of Xen's `start_info`.
//! - Domain names are 1 to 32 characters of `a-z`, `0-9`, `_` and `-`, unique.
//! - There are 1 to 8 domains, as many as the hypervisor holds. The first one
//!   is dom0, the control domain, and is built first; the others are boot-time
//!   domUs, built in order.
//!
//! A domain line is read in `domain_spec`, which also holds a line's defaults, and
//! the reasons for refusing a line are in `manifest_error`. What both of those use
//! is in files of its own, so that neither imports from this file: the header line
//! in `header`, the limits in `limits`, and splitting a line into fields in
//! `fields`.

use domain_spec::parse_domain;
use fields::{is_blank, next_field};
use heapless::Vec;

mod domain_spec;
mod fields;
mod header;
mod limits;
mod manifest_error;

pub use domain_spec::{DEFAULT_MEMORY_BYTES, DEFAULT_WEIGHT, DomainSpec};
pub use header::HEADER;
pub use limits::{MAX_CMDLINE_LEN, MAX_DOMAINS, MAX_MEMORY_BYTES, MAX_NAME_LEN};
pub use manifest_error::{ManifestError, ManifestErrorKind};

/// A parsed manifest, borrowing from its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest<'a> {
    /// The domains in file order; the first is dom0. Never empty when it comes
    /// from [`Manifest::parse`].
    pub domains: Vec<DomainSpec<'a>, MAX_DOMAINS>,
}

impl<'a> Manifest<'a> {
    /// Parses the manifest `text`, checking everything the module doc requires
    /// except that kernel files exist, which only the bundle can tell.
    pub fn parse(text: &'a str) -> Result<Manifest<'a>, ManifestError<'a>> {
        let mut seen_header = false;
        let mut domains: Vec<DomainSpec<'a>, MAX_DOMAINS> = Vec::new();
        let mut last_line = 1;
        for (index, line) in text.lines().enumerate() {
            let number = index.saturating_add(1);
            last_line = number;
            let at_line = |kind| ManifestError { line: number, kind };
            let content = line.trim_matches(is_blank);
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            if !seen_header {
                check_header(content).map_err(at_line)?;
                seen_header = true;
                continue;
            }
            let domain = parse_domain(line).map_err(at_line)?;
            if domains.iter().any(|earlier| earlier.name == domain.name) {
                return Err(at_line(ManifestErrorKind::DuplicateDomain(domain.name)));
            }
            domains
                .push(domain)
                .map_err(|_| at_line(ManifestErrorKind::TooManyDomains))?;
        }
        let at_end = |kind| ManifestError { line: last_line, kind };
        if !seen_header {
            return Err(at_end(ManifestErrorKind::MissingHeader));
        }
        if domains.is_empty() {
            return Err(at_end(ManifestErrorKind::NoDomains));
        }
        Ok(Manifest { domains })
    }

    /// The domain named `name`.
    pub fn domain(&self, name: &str) -> Option<&DomainSpec<'a>> {
        self.domains.iter().find(|domain| domain.name == name)
    }
}

fn check_header(content: &str) -> Result<(), ManifestErrorKind<'_>> {
    let mut rest = content;
    let (Some(format), version, None) = (next_field(&mut rest), next_field(&mut rest), next_field(&mut rest)) else {
        return Err(ManifestErrorKind::MissingHeader);
    };
    match (format, version) {
        ("xen-core-manifest", Some("1")) => Ok(()),
        ("xen-core-manifest", Some(version)) => Err(ManifestErrorKind::UnsupportedVersion(version)),
        _ => Err(ManifestErrorKind::MissingHeader),
    }
}

#[cfg(test)]
mod tests;
