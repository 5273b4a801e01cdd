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

use core::fmt;
use heapless::Vec;
use xen_abi::start_info::MAX_GUEST_CMDLINE;

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

/// One domain to build at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainSpec<'a> {
    /// The domain's name, unique within the manifest.
    pub name: &'a str,
    /// Name of the kernel image in the bundle archive.
    pub kernel: &'a str,
    /// Memory to give the domain, a whole number of 4 KiB pages.
    pub memory_bytes: u64,
    /// The guest kernel's command line, possibly empty.
    pub cmdline: &'a str,
    /// Scheduler weight (1 to 65535).
    pub weight: u16,
    /// Scheduler cap in percent of one CPU; 0 for none.
    pub cap: u16,
}

// Weight of a domain whose line has no `weight=` (Xen's default).
pub use xen_abi::sched::CSCHED_DEFAULT_WEIGHT as DEFAULT_WEIGHT;

/// A parsed manifest, borrowing from its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest<'a> {
    /// The domains in file order; the first is dom0. Never empty when it comes
    /// from [`Manifest::parse`].
    pub domains: Vec<DomainSpec<'a>, MAX_DOMAINS>,
}

/// A manifest line that could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManifestError<'a> {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub kind: ManifestErrorKind<'a>,
}

/// What is wrong with a manifest line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestErrorKind<'a> {
    /// The first non-comment line is not [`HEADER`], or there is none.
    MissingHeader,
    /// The header names a version other than 1.
    UnsupportedVersion(&'a str),
    /// A line starts with something other than `domain`.
    UnknownDirective(&'a str),
    /// `domain` is not followed by a name.
    MissingName,
    /// The name is too long or has a character outside `a-z0-9_-`.
    BadName(&'a str),
    /// An earlier line defines a domain of the same name.
    DuplicateDomain(&'a str),
    /// This line would be domain number [`MAX_DOMAINS`] + 1.
    TooManyDomains,
    /// A field has no `=`.
    MalformedSetting(&'a str),
    /// A `key=value` field with a key we do not know.
    UnknownKey(&'a str),
    /// A key appears twice on one line.
    DuplicateKey(&'a str),
    /// The named domain has no `kernel=`.
    MissingKernel(&'a str),
    /// The key's value is empty.
    EmptyValue(&'a str),
    /// The memory size is not decimal digits followed by `K`, `M` or `G`.
    BadMemory(&'a str),
    /// The memory size is zero or above [`MAX_MEMORY_BYTES`].
    MemoryOutOfRange(&'a str),
    /// The memory size is not a whole number of 4 KiB pages.
    MemoryNotPageMultiple(&'a str),
    /// `weight=` is not a number from 1 to 65535.
    BadWeight(&'a str),
    /// `cap=` is not a number from 0 to 100.
    BadCap(&'a str),
    /// The command line is longer than [`MAX_CMDLINE_LEN`]; carries its length.
    CmdlineTooLong(usize),
    /// The manifest defines no domain; reported at its last line.
    NoDomains,
}

impl fmt::Display for ManifestErrorKind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingHeader => write!(f, "expected `{HEADER}` first"),
            Self::UnsupportedVersion(version) => {
                write!(f, "unsupported manifest version `{version}`, expected `1`")
            }
            Self::UnknownDirective(word) => write!(f, "unknown directive `{word}`, expected `domain`"),
            Self::MissingName => write!(f, "`domain` needs a name"),
            Self::BadName(name) => write!(
                f,
                "bad domain name `{name}`: use 1 to {MAX_NAME_LEN} of a-z, 0-9, `_` and `-`"
            ),
            Self::DuplicateDomain(name) => write!(f, "domain `{name}` is defined twice"),
            Self::TooManyDomains => write!(f, "more than {MAX_DOMAINS} domains"),
            Self::MalformedSetting(field) => write!(f, "expected key=value, found `{field}`"),
            Self::UnknownKey(key) => write!(f, "unknown key `{key}`"),
            Self::DuplicateKey(key) => write!(f, "key `{key}` given twice"),
            Self::MissingKernel(name) => write!(f, "domain `{name}` has no `kernel=`"),
            Self::EmptyValue(key) => write!(f, "`{key}=` needs a value"),
            Self::BadMemory(size) => {
                write!(f, "bad memory size `{size}`: expected a number followed by K, M or G")
            }
            Self::MemoryOutOfRange(size) => {
                write!(f, "memory size `{size}` must be more than 0 and at most 64G")
            }
            Self::MemoryNotPageMultiple(size) => {
                write!(f, "memory size `{size}` is not a whole number of 4K pages")
            }
            Self::BadWeight(weight) => write!(f, "bad weight `{weight}`: expected 1 to 65535"),
            Self::BadCap(cap) => write!(f, "bad cap `{cap}`: expected a percentage from 0 to 100"),
            Self::CmdlineTooLong(len) => {
                write!(f, "cmdline is {len} bytes long, at most {MAX_CMDLINE_LEN} fit")
            }
            Self::NoDomains => write!(f, "no domain defined"),
        }
    }
}

impl fmt::Display for ManifestError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "manifest line {}: {}", self.line, self.kind)
    }
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

fn parse_domain(line: &str) -> Result<DomainSpec<'_>, ManifestErrorKind<'_>> {
    let mut rest = line;
    match next_field(&mut rest) {
        Some("domain") => {}
        other => return Err(ManifestErrorKind::UnknownDirective(other.unwrap_or_default())),
    }
    let name = next_field(&mut rest).ok_or(ManifestErrorKind::MissingName)?;
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(ManifestErrorKind::BadName(name));
    }
    let (mut kernel, mut memory, mut weight, mut cap, mut cmdline) = (None, None, None, None, "");
    loop {
        rest = rest.trim_start_matches(is_blank);
        if let Some(verbatim) = rest.strip_prefix("cmdline=") {
            cmdline = verbatim;
            break;
        }
        let Some(field) = next_field(&mut rest) else { break };
        let (key, value) = field
            .split_once('=')
            .ok_or(ManifestErrorKind::MalformedSetting(field))?;
        let slot = match key {
            "kernel" => &mut kernel,
            "memory" => &mut memory,
            "weight" => &mut weight,
            "cap" => &mut cap,
            _ => return Err(ManifestErrorKind::UnknownKey(key)),
        };
        if slot.replace(value).is_some() {
            return Err(ManifestErrorKind::DuplicateKey(key));
        }
    }
    let kernel = kernel.ok_or(ManifestErrorKind::MissingKernel(name))?;
    if kernel.is_empty() {
        return Err(ManifestErrorKind::EmptyValue("kernel"));
    }
    let memory_bytes = memory.map_or(Ok(DEFAULT_MEMORY_BYTES), parse_memory)?;
    let weight = match weight {
        None => DEFAULT_WEIGHT,
        Some(text) => text
            .parse::<u16>()
            .ok()
            .filter(|&weight| weight > 0)
            .ok_or(ManifestErrorKind::BadWeight(text))?,
    };
    let cap = match cap {
        None => 0,
        Some(text) => text
            .parse::<u16>()
            .ok()
            .filter(|&cap| cap <= 100)
            .ok_or(ManifestErrorKind::BadCap(text))?,
    };
    if cmdline.len() > MAX_CMDLINE_LEN {
        return Err(ManifestErrorKind::CmdlineTooLong(cmdline.len()));
    }
    Ok(DomainSpec {
        name,
        kernel,
        memory_bytes,
        cmdline,
        weight,
        cap,
    })
}

/// A size such as `64M`: decimal digits and a binary unit.
fn parse_memory(size: &str) -> Result<u64, ManifestErrorKind<'_>> {
    let (digits, shift) = if let Some(digits) = size.strip_suffix('K') {
        (digits, 10)
    } else if let Some(digits) = size.strip_suffix('M') {
        (digits, 20)
    } else if let Some(digits) = size.strip_suffix('G') {
        (digits, 30)
    } else {
        return Err(ManifestErrorKind::BadMemory(size));
    };
    // `u64::from_str` would also take a sign; only digits are a size.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ManifestErrorKind::BadMemory(size));
    }
    let bytes = digits
        .parse::<u64>()
        .ok()
        .and_then(|count| count.checked_mul(1 << shift))
        .filter(|&bytes| bytes > 0 && bytes <= MAX_MEMORY_BYTES)
        .ok_or(ManifestErrorKind::MemoryOutOfRange(size))?;
    if !bytes.is_multiple_of(PAGE_BYTES) {
        return Err(ManifestErrorKind::MemoryNotPageMultiple(size));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::{String, ToString};

    const MIB: u64 = 1 << 20;

    fn kind_of(text: &str) -> (usize, ManifestErrorKind<'_>) {
        let error = Manifest::parse(text).unwrap_err();
        (error.line, error.kind)
    }

    fn one_domain(line: &str) -> Result<DomainSpec<'_>, ManifestErrorKind<'_>> {
        parse_domain(line)
    }

    #[test]
    fn the_documented_example_parses() {
        let text = "# comments and blank lines are ignored\n\
                    xen-core-manifest 1\n\
                    domain dom0 kernel=dom0.elf memory=64M\n\
                    domain demo kernel=hello.elf memory=16M cmdline=console=hvc0 loglevel=3\n";
        let manifest = Manifest::parse(text).unwrap();
        assert_eq!(
            manifest.domains,
            [
                DomainSpec {
                    name: "dom0",
                    kernel: "dom0.elf",
                    memory_bytes: 64 * MIB,
                    cmdline: "",
                    weight: DEFAULT_WEIGHT,
                    cap: 0,
                },
                DomainSpec {
                    name: "demo",
                    kernel: "hello.elf",
                    memory_bytes: 16 * MIB,
                    cmdline: "console=hvc0 loglevel=3",
                    weight: DEFAULT_WEIGHT,
                    cap: 0,
                },
            ]
        );
        assert_eq!(manifest.domain("demo").unwrap().kernel, "hello.elf");
        assert_eq!(manifest.domain("nope"), None);
    }

    #[test]
    fn layout_is_forgiving_where_it_is_unambiguous() {
        let text = "\r\n   # indented comment\r\n\txen-core-manifest   1 \r\n\
                    \n  domain\tguest_1-a   memory=4K\t kernel=k   \r\n";
        let manifest = Manifest::parse(text).unwrap();
        assert_eq!(
            manifest.domains,
            [DomainSpec {
                name: "guest_1-a",
                kernel: "k",
                memory_bytes: 4096,
                cmdline: "",
                weight: DEFAULT_WEIGHT,
                cap: 0,
            }]
        );
    }

    #[test]
    fn weight_and_cap_are_read_and_checked() {
        let domain = one_domain("domain d kernel=k weight=512 cap=50").unwrap();
        assert_eq!((domain.weight, domain.cap), (512, 50));
        let domain = one_domain("domain d kernel=k").unwrap();
        assert_eq!((domain.weight, domain.cap), (DEFAULT_WEIGHT, 0));
        for (line, kind) in [
            ("domain d kernel=k weight=0", ManifestErrorKind::BadWeight("0")),
            ("domain d kernel=k weight=65536", ManifestErrorKind::BadWeight("65536")),
            ("domain d kernel=k weight=-1", ManifestErrorKind::BadWeight("-1")),
            ("domain d kernel=k cap=101", ManifestErrorKind::BadCap("101")),
            ("domain d kernel=k cap=x", ManifestErrorKind::BadCap("x")),
        ] {
            assert_eq!(one_domain(line).unwrap_err(), kind, "{line}");
        }
    }

    #[test]
    fn memory_defaults_to_32m_and_cmdline_to_empty() {
        let domain = one_domain("domain d kernel=k").unwrap();
        assert_eq!(domain.memory_bytes, DEFAULT_MEMORY_BYTES);
        assert_eq!(domain.cmdline, "");
    }

    #[test]
    fn cmdline_takes_the_rest_of_the_line_verbatim() {
        let domain = one_domain("domain d kernel=k cmdline=  a=b  # not a comment\tmemory=1G ").unwrap();
        assert_eq!(domain.cmdline, "  a=b  # not a comment\tmemory=1G ");
        assert_eq!(domain.memory_bytes, DEFAULT_MEMORY_BYTES);
        assert_eq!(one_domain("domain d kernel=k cmdline=").unwrap().cmdline, "");
    }

    #[test]
    fn cmdline_must_fit_start_info() {
        let fits = format!("domain d kernel=k cmdline={}", "x".repeat(MAX_CMDLINE_LEN));
        assert_eq!(one_domain(&fits).unwrap().cmdline.len(), 1023);
        let too_long = format!("domain d kernel=k cmdline={}", "x".repeat(MAX_CMDLINE_LEN + 1));
        assert_eq!(one_domain(&too_long), Err(ManifestErrorKind::CmdlineTooLong(1024)));
    }

    #[test]
    fn memory_sizes_are_checked() {
        for (size, bytes) in [
            ("4K", 4096),
            ("1M", MIB),
            ("3G", 3 << 30),
            ("64G", 64 << 30),
            ("0064M", 64 * MIB),
        ] {
            let line = format!("domain d kernel=k memory={size}");
            assert_eq!(one_domain(&line).map(|domain| domain.memory_bytes), Ok(bytes), "{size}");
        }
        for size in ["", "64", "1T", "16m", "M", "+4M", "-4M", "4.5M", "0x10M", "4KB", "é"] {
            let line = format!("domain d kernel=k memory={size}");
            assert_eq!(one_domain(&line), Err(ManifestErrorKind::BadMemory(size)), "{size:?}");
        }
        for size in [
            "0K",
            "0G",
            "65G",
            "65537M",
            "99999999999999999999K",
            "18014398509481984K",
        ] {
            let line = format!("domain d kernel=k memory={size}");
            assert_eq!(
                one_domain(&line),
                Err(ManifestErrorKind::MemoryOutOfRange(size)),
                "{size}"
            );
        }
        for size in ["1K", "5K", "4097K"] {
            let line = format!("domain d kernel=k memory={size}");
            assert_eq!(one_domain(&line), Err(ManifestErrorKind::MemoryNotPageMultiple(size)));
        }
    }

    #[test]
    fn names_are_checked() {
        let longest = "a".repeat(MAX_NAME_LEN);
        assert!(one_domain(&format!("domain {longest} kernel=k")).is_ok());
        let too_long = "a".repeat(MAX_NAME_LEN + 1);
        let line = format!("domain {too_long} kernel=k");
        assert_eq!(one_domain(&line), Err(ManifestErrorKind::BadName(&too_long)));
        for name in ["Dom0", "dom.0", "dom/0", "d\u{e9}", "kernel=k"] {
            let line = format!("domain {name} kernel=k");
            assert_eq!(one_domain(&line), Err(ManifestErrorKind::BadName(name)), "{name}");
        }
        assert_eq!(one_domain("domain   "), Err(ManifestErrorKind::MissingName));
    }

    #[test]
    fn fields_are_checked() {
        assert_eq!(
            one_domain("domain d kernel=k color=red"),
            Err(ManifestErrorKind::UnknownKey("color"))
        );
        assert_eq!(
            one_domain("domain d kernel=k verbose"),
            Err(ManifestErrorKind::MalformedSetting("verbose"))
        );
        assert_eq!(
            one_domain("domain d kernel=a kernel=b"),
            Err(ManifestErrorKind::DuplicateKey("kernel"))
        );
        assert_eq!(
            one_domain("domain d memory=1M memory=2M"),
            Err(ManifestErrorKind::DuplicateKey("memory"))
        );
        assert_eq!(
            one_domain("domain d memory=1M"),
            Err(ManifestErrorKind::MissingKernel("d"))
        );
        assert_eq!(
            one_domain("domain d kernel="),
            Err(ManifestErrorKind::EmptyValue("kernel"))
        );
        assert_eq!(
            one_domain("domain d cmdline=kernel=k"),
            Err(ManifestErrorKind::MissingKernel("d")),
            "cmdline swallows what follows it"
        );
        assert_eq!(
            one_domain("domian d kernel=k"),
            Err(ManifestErrorKind::UnknownDirective("domian"))
        );
    }

    #[test]
    fn the_header_must_come_first() {
        assert_eq!(kind_of(""), (1, ManifestErrorKind::MissingHeader));
        assert_eq!(kind_of("# only\n\n# comments\n"), (3, ManifestErrorKind::MissingHeader));
        assert_eq!(kind_of("\ndomain d kernel=k\n"), (2, ManifestErrorKind::MissingHeader));
        assert_eq!(kind_of("xen-core-manifest\n"), (1, ManifestErrorKind::MissingHeader));
        assert_eq!(
            kind_of("xen-core-manifest 1 extra\n"),
            (1, ManifestErrorKind::MissingHeader)
        );
        assert_eq!(
            kind_of("xen-core-manifest 2\n"),
            (1, ManifestErrorKind::UnsupportedVersion("2"))
        );
    }

    #[test]
    fn errors_carry_their_line_number() {
        let text = "xen-core-manifest 1\n# fine\ndomain a kernel=k\ndomain b kernel=k foo=1\n";
        assert_eq!(kind_of(text), (4, ManifestErrorKind::UnknownKey("foo")));
        let twice = "xen-core-manifest 1\ndomain a kernel=k\n\ndomain a kernel=j\n";
        assert_eq!(kind_of(twice), (4, ManifestErrorKind::DuplicateDomain("a")));
    }

    #[test]
    fn there_are_one_to_max_domains() {
        assert_eq!(
            kind_of("xen-core-manifest 1\n\n# none\n"),
            (3, ManifestErrorKind::NoDomains)
        );
        let mut text = String::from("xen-core-manifest 1\n");
        for index in 0..MAX_DOMAINS {
            text += &format!("domain d{index} kernel=k\n");
        }
        assert_eq!(Manifest::parse(&text).unwrap().domains.len(), MAX_DOMAINS);
        text += "domain extra kernel=k\n";
        assert_eq!(kind_of(&text), (MAX_DOMAINS + 2, ManifestErrorKind::TooManyDomains));
    }

    #[test]
    fn errors_read_as_one_line() {
        let error = ManifestError {
            line: 3,
            kind: ManifestErrorKind::UnknownKey("foo"),
        };
        assert_eq!(error.to_string(), "manifest line 3: unknown key `foo`");
        let kinds = [
            ManifestErrorKind::MissingHeader,
            ManifestErrorKind::UnsupportedVersion("2"),
            ManifestErrorKind::UnknownDirective("x"),
            ManifestErrorKind::MissingName,
            ManifestErrorKind::BadName("X"),
            ManifestErrorKind::DuplicateDomain("a"),
            ManifestErrorKind::TooManyDomains,
            ManifestErrorKind::MalformedSetting("x"),
            ManifestErrorKind::DuplicateKey("kernel"),
            ManifestErrorKind::MissingKernel("a"),
            ManifestErrorKind::EmptyValue("kernel"),
            ManifestErrorKind::BadMemory("1T"),
            ManifestErrorKind::MemoryOutOfRange("0K"),
            ManifestErrorKind::MemoryNotPageMultiple("5K"),
            ManifestErrorKind::CmdlineTooLong(2000),
            ManifestErrorKind::NoDomains,
        ];
        for kind in kinds {
            let text = ManifestError { line: 1, kind }.to_string();
            assert!(text.starts_with("manifest line 1: ") && !text.contains('\n'), "{text}");
        }
    }
}
