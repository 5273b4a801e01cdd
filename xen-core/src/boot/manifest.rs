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
//! A domain line is read in `domain_spec`, and the reasons for refusing a line are
//! in `manifest_error`.

use domain_spec::parse_domain;
use heapless::Vec;
use xen_abi::start_info::MAX_GUEST_CMDLINE;

mod domain_spec;
mod manifest_error;

pub use domain_spec::DomainSpec;
pub use manifest_error::{ManifestError, ManifestErrorKind};

/// The format line every manifest starts with.
pub const HEADER: &str = "xen-core-manifest 1";
// Most domains a manifest may define: all the hypervisor holds.
pub use xen_abi::domain_builder::MAX_DOMAINS;
/// Longest domain name.
pub const MAX_NAME_LEN: usize = 32;
/// Longest command line: Xen's `start_info.cmd_line` holds 1024 bytes with the NUL.
pub const MAX_CMDLINE_LEN: usize = MAX_GUEST_CMDLINE - 1;
/// Memory of a domain whose line has no `memory=`.
pub const DEFAULT_MEMORY_BYTES: u64 = 32 << 20;
/// Most memory a domain may ask for.
pub const MAX_MEMORY_BYTES: u64 = 64 << 30;

/// Domain memory is given in whole pages of this size.
const PAGE_BYTES: u64 = 4096;

// Weight of a domain whose line has no `weight=` (Xen's default).
pub use xen_abi::sched::CSCHED_DEFAULT_WEIGHT as DEFAULT_WEIGHT;

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

/// Field separators: blanks, plus a stray `\r` from an editor.
fn is_blank(c: char) -> bool {
    c.is_ascii_whitespace()
}

/// Takes the next blank-separated field from `rest`.
fn next_field<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let text = rest.trim_start_matches(is_blank);
    let (field, after) = text.split_once(is_blank).unwrap_or((text, ""));
    *rest = after;
    if field.is_empty() { None } else { Some(field) }
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
