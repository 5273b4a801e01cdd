//! A file name as a ustar header splits it: a `prefix` and a base, compared and
//! shown joined.

use core::fmt::{self, Write};

/// A file name, kept as the two borrowed parts a ustar header splits it into.
///
/// The ustar `prefix` and `name` fields are not adjacent in the header, so a joined
/// name could not borrow from the archive; comparisons and `Display` see the joined
/// `prefix/base` form.
#[derive(Clone, Copy, Debug)]
pub struct TarName<'a> {
    /// The directory part; empty when the whole name is in `base`.
    prefix: &'a str,
    base: &'a str,
}

impl<'a> TarName<'a> {
    /// The name `prefix/base`, or `base` when `prefix` is empty, without leading `./`.
    pub(super) fn new(prefix: &'a str, base: &'a str) -> Self {
        match strip_dot_slash(prefix) {
            "" | "." => TarName {
                prefix: "",
                base: strip_dot_slash(base),
            },
            prefix => TarName { prefix, base },
        }
    }

    /// The joined name's bytes.
    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        let separator = if self.prefix.is_empty() { "" } else { "/" };
        self.prefix.bytes().chain(separator.bytes()).chain(self.base.bytes())
    }

    /// Whether the joined name is empty.
    pub fn is_empty(&self) -> bool {
        self.prefix.is_empty() && self.base.is_empty()
    }

    /// Whether the joined name ends in `/`.
    pub(super) fn ends_with_slash(&self) -> bool {
        self.base.ends_with('/') || (self.base.is_empty() && !self.prefix.is_empty())
    }
}

impl PartialEq for TarName<'_> {
    fn eq(&self, other: &TarName<'_>) -> bool {
        self.bytes().eq(other.bytes())
    }
}

impl Eq for TarName<'_> {}

impl PartialEq<str> for TarName<'_> {
    fn eq(&self, other: &str) -> bool {
        self.bytes().eq(other.bytes())
    }
}

impl PartialEq<&str> for TarName<'_> {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

/// Honours width, fill and alignment (`{:<24}`) like `str` does, so names line up
/// in boot logs.
impl fmt::Display for TarName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            return f.pad(self.base);
        }
        let length = self
            .prefix
            .chars()
            .count()
            .saturating_add(1)
            .saturating_add(self.base.chars().count());
        let padding = f.width().unwrap_or(0).saturating_sub(length);
        let (before, after) = match f.align() {
            Some(fmt::Alignment::Right) => (padding, 0),
            Some(fmt::Alignment::Center) => (padding / 2, padding - padding / 2),
            Some(fmt::Alignment::Left) | None => (0, padding),
        };
        let fill = f.fill();
        for _ in 0..before {
            f.write_char(fill)?;
        }
        write!(f, "{}/{}", self.prefix, self.base)?;
        for _ in 0..after {
            f.write_char(fill)?;
        }
        Ok(())
    }
}

/// `name` without any leading `./`.
fn strip_dot_slash(mut name: &str) -> &str {
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    name
}
