//! Why a manifest line could not be read: [`ManifestError`] and its
//! [`ManifestErrorKind`].

use crate::boot::manifest::header::HEADER;
use crate::boot::manifest::limits::{MAX_CMDLINE_LEN, MAX_DOMAINS, MAX_NAME_LEN};
use core::fmt;

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
    /// The memory size is zero or above [`MAX_MEMORY_BYTES`](crate::boot::manifest::MAX_MEMORY_BYTES).
    MemoryOutOfRange(&'a str),
    /// The memory size is not a whole number of 4 KiB pages.
    MemoryNotPageMultiple(&'a str),
    /// `maxmem=` is below the domain's `memory=` (xl refuses it too).
    MaxmemBelowMemory(&'a str),
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
            Self::MaxmemBelowMemory(size) => write!(f, "maxmem `{size}` is below the domain's memory"),
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
