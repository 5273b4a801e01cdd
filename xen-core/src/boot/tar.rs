//! A reader for POSIX ustar archives, the container of the boot bundle.
//!
//! The bundle is made on the host by GNU tar or the Rust `tar` crate, so this reads
//! what those write: 512-byte headers with the POSIX magic `ustar\0` + `00` or the
//! GNU magic `ustar  \0`, followed by the entry's data padded to a whole block.
//! [`TarArchive::parse`] walks the whole archive once and checks every header
//! (magic, checksum, octal size, data inside the buffer), so later lookups cannot
//! fail. The buffer comes from the boot loader, so nothing in it is trusted: every
//! step advances by at least one block and all arithmetic is checked.
//!
//! What is kept and what is skipped:
//! - Regular files (`'0'`, `'\0'`, and `'7'`, contiguous files, which POSIX says to
//!   read as regular) are kept, at most [`MAX_FILES`] of them, and their names
//!   must be unique.
//! - Long names are honoured: a GNU `'L'` entry or a pax `'x'` entry's `path`
//!   record names the entry after it. Other pax records (including `size`, which
//!   writers only need beyond 8 GiB) and pax global headers (`'g'`) are ignored.
//! - Directories, links, devices and FIFOs are skipped, and so is a regular-file
//!   entry whose name ends in `/` (how pre-POSIX tars marked directories).
//! - Names are the ustar `prefix` (POSIX headers only: GNU headers keep other
//!   fields there), a `/`, and `name`; they must be UTF-8 and lose any leading `./`.
//!
//! The archive ends at its first all-zero block. Writers emit two and pad to a
//! record size; like GNU tar, one is enough, and what follows it is not read. A
//! buffer that ends before that block, inside a header or inside an entry's data, is
//! [`TarError::Truncated`], which is how an empty buffer is reported too.

use core::fmt::{self, Write};
use heapless::Vec;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Size of a header and the unit data is padded to.
pub const BLOCK_SIZE: usize = 512;
/// Most regular files an archive may hold.
pub const MAX_FILES: usize = 32;

/// A ustar header block. Every field is bytes, so any block can be viewed as one.
#[repr(C)]
#[derive(FromBytes, IntoBytes, Immutable, KnownLayout)]
struct UstarHeader {
    name: [u8; 100],
    mode: [u8; 8],
    uid: [u8; 8],
    gid: [u8; 8],
    size: [u8; 12],
    mtime: [u8; 12],
    checksum: [u8; 8],
    typeflag: u8,
    linkname: [u8; 100],
    /// The magic and version fields together.
    magic: [u8; 8],
    uname: [u8; 32],
    gname: [u8; 32],
    devmajor: [u8; 8],
    devminor: [u8; 8],
    prefix: [u8; 155],
    padding: [u8; 12],
}

const _: () = assert!(core::mem::size_of::<UstarHeader>() == BLOCK_SIZE);

/// Where the checksum field lies in a header.
const CHECKSUM_FIELD: core::ops::Range<usize> = {
    let start = core::mem::offset_of!(UstarHeader, checksum);
    start..start + 8
};

const POSIX_MAGIC: [u8; 8] = *b"ustar\x0000";
const GNU_MAGIC: [u8; 8] = *b"ustar  \x00";

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
    fn new(prefix: &'a str, base: &'a str) -> Self {
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
    fn ends_with_slash(&self) -> bool {
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

/// A regular file in the archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TarFile<'a> {
    /// The file's path inside the archive.
    pub name: TarName<'a>,
    /// The file's contents.
    pub data: &'a [u8],
    /// Where `data` starts within the archive.
    pub offset: usize,
}

/// Why an archive was refused. Each variant carries the byte offset of the header
/// at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TarError {
    /// The buffer ends inside this header or its data, or before the end marker.
    Truncated {
        /// Offset of the header.
        offset: usize,
    },
    /// The header has neither the POSIX nor the GNU ustar magic.
    BadMagic {
        /// Offset of the header.
        offset: usize,
    },
    /// The header's checksum field is malformed or does not match its bytes.
    BadChecksum {
        /// Offset of the header.
        offset: usize,
    },
    /// The size field is not an octal number.
    BadSize {
        /// Offset of the header.
        offset: usize,
    },
    /// The size field uses GNU's base-256 encoding, only needed beyond 8 GiB.
    UnsupportedSize {
        /// Offset of the header.
        offset: usize,
    },
    /// The file name is empty or not UTF-8.
    BadName {
        /// Offset of the header.
        offset: usize,
    },
    /// A pax or GNU long-name entry is malformed, or no entry follows it.
    BadExtendedHeader {
        /// Offset of the extended header.
        offset: usize,
    },
    /// A file of the same name appears earlier in the archive.
    DuplicateName {
        /// Offset of the second header.
        offset: usize,
    },
    /// The archive holds more than [`MAX_FILES`] regular files.
    TooManyFiles {
        /// Offset of the first file that did not fit.
        offset: usize,
    },
}

impl TarError {
    /// Byte offset of the header at fault.
    pub const fn offset(&self) -> usize {
        match *self {
            TarError::Truncated { offset }
            | TarError::BadMagic { offset }
            | TarError::BadChecksum { offset }
            | TarError::BadSize { offset }
            | TarError::UnsupportedSize { offset }
            | TarError::BadName { offset }
            | TarError::BadExtendedHeader { offset }
            | TarError::DuplicateName { offset }
            | TarError::TooManyFiles { offset } => offset,
        }
    }

    fn problem(&self) -> &'static str {
        match self {
            TarError::Truncated { .. } => "archive cut short",
            TarError::BadMagic { .. } => "not a ustar header",
            TarError::BadChecksum { .. } => "bad header checksum",
            TarError::BadSize { .. } => "size field is not octal",
            TarError::UnsupportedSize { .. } => "base-256 size field not supported",
            TarError::BadName { .. } => "file name empty or not UTF-8",
            TarError::BadExtendedHeader { .. } => "malformed or dangling extended header",
            TarError::DuplicateName { .. } => "duplicate file name",
            TarError::TooManyFiles { .. } => "too many files",
        }
    }
}

impl fmt::Display for TarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tar: {} at offset {}", self.problem(), self.offset())
    }
}

/// A validated archive: its regular files, borrowed from the buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TarArchive<'a> {
    files: Vec<TarFile<'a>, MAX_FILES>,
}

impl<'a> TarArchive<'a> {
    /// Walks and validates the whole archive in `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<TarArchive<'a>, TarError> {
        let mut files: Vec<TarFile<'a>, MAX_FILES> = Vec::new();
        // A name from a GNU `'L'` or pax `'x'` entry for the next entry, and where
        // that extended header was.
        let mut long_name: Option<(&'a str, usize)> = None;
        let mut offset = 0;
        loop {
            let rest = bytes.get(offset..).unwrap_or_default();
            let (header, _) = UstarHeader::ref_from_prefix(rest).map_err(|_| TarError::Truncated { offset })?;
            if header.as_bytes().iter().all(|&byte| byte == 0) {
                return match long_name {
                    Some((_, extended)) => Err(TarError::BadExtendedHeader { offset: extended }),
                    None => Ok(TarArchive { files }),
                };
            }
            header.validate(offset)?;
            let (data, next) = entry_data(bytes, offset, header.size(offset)?)?;
            match header.typeflag {
                b'0' | b'\0' | b'7' => {
                    let name = match long_name.take() {
                        Some((name, _)) => TarName::new("", name),
                        None => header.name(offset)?,
                    };
                    if name.is_empty() {
                        return Err(TarError::BadName { offset });
                    }
                    if !name.ends_with_slash() {
                        if files.iter().any(|file| file.name == name) {
                            return Err(TarError::DuplicateName { offset });
                        }
                        let data_offset = offset.saturating_add(BLOCK_SIZE);
                        files
                            .push(TarFile {
                                name,
                                data,
                                offset: data_offset,
                            })
                            .map_err(|_| TarError::TooManyFiles { offset })?;
                    }
                }
                b'L' => long_name = Some((long_name_record(data, offset)?, offset)),
                b'x' => {
                    if let Some(path) = pax_path(data, offset)? {
                        long_name = Some((path, offset));
                    }
                }
                // Global pax records and GNU long link names do not name the next entry.
                b'g' | b'K' => {}
                // Any other entry is skipped, along with a long name meant for it.
                _ => long_name = None,
            }
            offset = next;
        }
    }

    /// The regular files, in archive order.
    pub fn files(&self) -> impl Iterator<Item = TarFile<'a>> + '_ {
        self.files.iter().copied()
    }

    /// The regular file named `name`.
    pub fn file(&self, name: &str) -> Option<TarFile<'a>> {
        self.files().find(|file| file.name == name)
    }
}

impl UstarHeader {
    /// Checks the magic and then the checksum.
    fn validate(&self, offset: usize) -> Result<(), TarError> {
        if self.magic != POSIX_MAGIC && self.magic != GNU_MAGIC {
            return Err(TarError::BadMagic { offset });
        }
        let stored = parse_octal(&self.checksum).ok_or(TarError::BadChecksum { offset })?;
        // The checksum is taken with its own field read as eight spaces. Some old
        // writers summed signed bytes; GNU tar accepts both sums, and so do we.
        let field_sum = u64::from(b' ') * 8;
        let field_signed_sum = i64::from(b' ') * 8;
        let others = || {
            self.as_bytes()
                .iter()
                .enumerate()
                .filter(|(i, _)| !CHECKSUM_FIELD.contains(i))
        };
        let unsigned = others().fold(field_sum, |sum, (_, &b)| sum.saturating_add(u64::from(b)));
        let signed = others().fold(field_signed_sum, |sum, (_, &b)| {
            sum.saturating_add(i64::from(b.cast_signed()))
        });
        if stored == unsigned || i64::try_from(stored).is_ok_and(|stored| stored == signed) {
            Ok(())
        } else {
            Err(TarError::BadChecksum { offset })
        }
    }

    /// The entry's data size in bytes.
    fn size(&self, offset: usize) -> Result<u64, TarError> {
        // GNU's base-256 sizes set the top bit of the first byte.
        if self.size.first().is_some_and(|&byte| byte & 0x80 != 0) {
            return Err(TarError::UnsupportedSize { offset });
        }
        parse_octal(&self.size).ok_or(TarError::BadSize { offset })
    }

    /// The name from the header's own fields.
    fn name(&self, offset: usize) -> Result<TarName<'_>, TarError> {
        let bad_name = TarError::BadName { offset };
        let base = field_str(&self.name).ok_or(bad_name)?;
        let prefix = if self.magic == POSIX_MAGIC {
            field_str(&self.prefix).ok_or(bad_name)?
        } else {
            ""
        };
        Ok(TarName::new(prefix, base))
    }
}

/// The data of the entry whose header is at `offset`, and the offset of the next
/// header.
fn entry_data(bytes: &[u8], offset: usize, size: u64) -> Result<(&[u8], usize), TarError> {
    let truncated = TarError::Truncated { offset };
    let size = usize::try_from(size).map_err(|_| truncated)?;
    let start = offset.checked_add(BLOCK_SIZE).ok_or(truncated)?;
    let end = start.checked_add(size).ok_or(truncated)?;
    let data = bytes.get(start..end).ok_or(truncated)?;
    let padded = size.div_ceil(BLOCK_SIZE).checked_mul(BLOCK_SIZE).ok_or(truncated)?;
    let next = start.checked_add(padded).ok_or(truncated)?;
    if next > bytes.len() {
        return Err(truncated);
    }
    Ok((data, next))
}

/// The name in a GNU `'L'` entry's data: text up to the first NUL.
fn long_name_record(data: &[u8], offset: usize) -> Result<&str, TarError> {
    field_str(data).ok_or(TarError::BadName { offset })
}

/// The `path` record of a pax extended header, if it has one.
///
/// Records read `<length> <key>=<value>\n`, where the decimal length counts the
/// whole record, its own digits included.
fn pax_path(records: &[u8], offset: usize) -> Result<Option<&str>, TarError> {
    let malformed = TarError::BadExtendedHeader { offset };
    let mut path = None;
    let mut rest = records;
    while !rest.is_empty() {
        let space = rest.iter().position(|&byte| byte == b' ').ok_or(malformed)?;
        let (digits, _) = rest.split_at_checked(space).ok_or(malformed)?;
        let length = parse_decimal(digits).ok_or(malformed)?;
        let (record, after) = rest.split_at_checked(length).ok_or(malformed)?;
        // A record shorter than its digits, space and newline fails here, so every
        // accepted record is non-empty and the loop advances.
        let body = record.get(space.saturating_add(1)..).ok_or(malformed)?;
        let body = body.strip_suffix(b"\n").ok_or(malformed)?;
        let equals = body.iter().position(|&byte| byte == b'=').ok_or(malformed)?;
        let (key, value) = body.split_at_checked(equals).ok_or(malformed)?;
        if key == b"path" {
            let value = value.get(1..).ok_or(malformed)?;
            path = Some(core::str::from_utf8(value).map_err(|_| TarError::BadName { offset })?);
        }
        rest = after;
    }
    Ok(path)
}

/// A NUL-terminated (or field-filling) header string, if UTF-8.
fn field_str(field: &[u8]) -> Option<&str> {
    let end = field.iter().position(|&byte| byte == 0).unwrap_or(field.len());
    core::str::from_utf8(field.get(..end)?).ok()
}

/// `name` without any leading `./`.
fn strip_dot_slash(mut name: &str) -> &str {
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    name
}

/// An octal header number: optional leading spaces, at least one digit, then only
/// NULs and spaces (writers end fields with either or both).
fn parse_octal(field: &[u8]) -> Option<u64> {
    let first_digit = field.iter().position(|&byte| byte != b' ')?;
    let rest = field.get(first_digit..)?;
    let digit_count = rest
        .iter()
        .position(|byte| !(b'0'..=b'7').contains(byte))
        .unwrap_or(rest.len());
    let (digits, tail) = rest.split_at_checked(digit_count)?;
    if digits.is_empty() || !tail.iter().all(|&byte| byte == 0 || byte == b' ') {
        return None;
    }
    digits.iter().try_fold(0u64, |value, &digit| {
        value
            .checked_mul(8)?
            .checked_add(u64::from(char::from(digit).to_digit(8)?))
    })
}

/// A non-empty run of ASCII decimal digits.
fn parse_decimal(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0usize, |value, &digit| {
        let digit = usize::try_from(char::from(digit).to_digit(10)?).ok()?;
        value.checked_mul(10)?.checked_add(digit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::format;
    use std::string::{String, ToString};
    use std::vec::Vec as StdVec;

    /// Writes the octal `value` into `field`, zero-padded and NUL-terminated.
    fn put_octal(field: &mut [u8], value: u64) {
        let text = format!("{value:0width$o}\0", width = field.len() - 1);
        field.copy_from_slice(text.as_bytes());
    }

    /// A POSIX ustar header with a valid checksum.
    fn header(name: &str, size: usize, typeflag: u8) -> [u8; BLOCK_SIZE] {
        let mut block = [0u8; BLOCK_SIZE];
        block[..name.len()].copy_from_slice(name.as_bytes());
        put_octal(&mut block[100..108], 0o644);
        put_octal(&mut block[108..116], 0);
        put_octal(&mut block[116..124], 0);
        put_octal(&mut block[124..136], size as u64);
        put_octal(&mut block[136..148], 0);
        block[156] = typeflag;
        block[257..265].copy_from_slice(&POSIX_MAGIC);
        seal(&mut block);
        block
    }

    /// Recomputes the checksum after a test edits a header.
    fn seal(block: &mut [u8; BLOCK_SIZE]) {
        block[148..156].fill(b' ');
        let sum: u64 = block.iter().map(|&byte| u64::from(byte)).sum();
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }

    /// An archive under construction.
    #[derive(Default)]
    struct Builder {
        bytes: StdVec<u8>,
    }

    impl Builder {
        fn entry(mut self, block: [u8; BLOCK_SIZE], data: &[u8]) -> Self {
            self.bytes.extend_from_slice(&block);
            self.bytes.extend_from_slice(data);
            let padding = data.len().next_multiple_of(BLOCK_SIZE) - data.len();
            self.bytes.resize(self.bytes.len() + padding, 0);
            self
        }

        fn file(self, name: &str, data: &[u8]) -> Self {
            self.entry(header(name, data.len(), b'0'), data)
        }

        fn finish(mut self) -> StdVec<u8> {
            self.bytes.resize(self.bytes.len() + 2 * BLOCK_SIZE, 0);
            self.bytes
        }
    }

    fn pax_record(key: &str, value: &str) -> String {
        // The length counts its own digits, so try the shortest length that fits.
        let body = format!(" {key}={value}\n");
        let mut length = body.len() + 1;
        while length.to_string().len() + body.len() != length {
            length += 1;
        }
        format!("{length}{body}")
    }

    fn names(archive: &TarArchive<'_>) -> StdVec<String> {
        archive.files().map(|file| file.name.to_string()).collect()
    }

    fn sample() -> StdVec<u8> {
        Builder::default()
            .file("manifest", b"xen-core-manifest 1\n")
            .entry(header("boot/", 0, b'5'), &[])
            .file("./boot/dom0.elf", &[0x7f; 700])
            .file("empty", b"")
            .finish()
    }

    #[test]
    fn regular_files_are_kept_with_their_data_and_offsets() {
        let bytes = sample();
        let archive = TarArchive::parse(&bytes).unwrap();
        assert_eq!(names(&archive), ["manifest", "boot/dom0.elf", "empty"]);
        let kernel = archive.file("boot/dom0.elf").unwrap();
        assert_eq!(kernel.data, &[0x7f; 700][..]);
        assert_eq!(kernel.offset, 3 * BLOCK_SIZE + BLOCK_SIZE);
        assert_eq!(&bytes[kernel.offset..kernel.offset + 700], kernel.data);
        assert_eq!(archive.file("empty").unwrap().data, b"");
        assert_eq!(archive.file("boot"), None);
        assert_eq!(archive.file("./boot/dom0.elf"), None);
    }

    #[test]
    fn one_zero_block_ends_the_archive_and_what_follows_is_not_read() {
        let mut bytes = Builder::default().file("a", b"x").bytes;
        bytes.extend_from_slice(&[0; BLOCK_SIZE]);
        assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["a"]);
        bytes.extend_from_slice(b"garbage after the end");
        assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["a"]);
        assert_eq!(TarArchive::parse(&[0; BLOCK_SIZE]).unwrap().files().count(), 0);
    }

    #[test]
    fn a_missing_end_marker_is_truncation() {
        let bytes = Builder::default().file("a", b"x").bytes;
        assert_eq!(TarArchive::parse(&bytes), Err(TarError::Truncated { offset: 1024 }));
        assert_eq!(TarArchive::parse(&[]), Err(TarError::Truncated { offset: 0 }));
    }

    #[test]
    fn a_truncated_header_is_reported_at_its_offset() {
        let bytes = sample();
        assert_eq!(
            TarArchive::parse(&bytes[..BLOCK_SIZE * 2 + 100]),
            Err(TarError::Truncated { offset: BLOCK_SIZE * 2 })
        );
    }

    #[test]
    fn truncated_data_or_padding_is_reported_at_its_header() {
        let bytes = sample();
        for cut in [3 * BLOCK_SIZE + 1, 4 * BLOCK_SIZE + 699, 4 * BLOCK_SIZE + 701] {
            assert_eq!(
                TarArchive::parse(&bytes[..cut]),
                Err(TarError::Truncated { offset: 3 * BLOCK_SIZE }),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_size_pointing_past_the_end_is_truncation() {
        let huge = Builder::default().entry(header("a", 0o77777777777, b'0'), &[]).finish();
        assert_eq!(TarArchive::parse(&huge), Err(TarError::Truncated { offset: 0 }));
    }

    #[test]
    fn a_bad_checksum_is_refused() {
        let mut bytes = sample();
        bytes[2 * BLOCK_SIZE + 10] = b'x';
        assert_eq!(
            TarArchive::parse(&bytes),
            Err(TarError::BadChecksum { offset: 2 * BLOCK_SIZE })
        );
        let mut bytes = sample();
        bytes[148..156].copy_from_slice(b"nonsense");
        assert_eq!(TarArchive::parse(&bytes), Err(TarError::BadChecksum { offset: 0 }));
    }

    #[test]
    fn checksums_are_read_in_every_writers_layout() {
        for layout in ["{:06o}\0 ", "{:07o}\0", "{:06o} \0", " {:06o} ", "{:o}\0\0\0\0\0"] {
            let mut block = header("a", 0, b'0');
            block[148..156].fill(b' ');
            let sum: u64 = block.iter().map(|&byte| u64::from(byte)).sum();
            let text = layout.replace("{:06o}", &format!("{sum:06o}"));
            let text = text.replace("{:07o}", &format!("{sum:07o}"));
            let text = text.replace("{:o}", &format!("{sum:o}"));
            block[148..156].copy_from_slice(&text.as_bytes()[..8]);
            let bytes = Builder::default().entry(block, &[]).finish();
            assert!(TarArchive::parse(&bytes).is_ok(), "layout {layout:?}");
        }
    }

    #[test]
    fn a_signed_checksum_is_accepted() {
        let mut block = header("caf\u{e9}", 0, b'0');
        block[148..156].fill(b' ');
        let sum: i64 = block.iter().map(|&byte| i64::from(byte as i8)).sum();
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let bytes = Builder::default().entry(block, &[]).finish();
        assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["caf\u{e9}"]);
    }

    #[test]
    fn bad_magic_is_refused_before_the_checksum_is_read() {
        let mut block = header("a", 0, b'0');
        block[257..265].copy_from_slice(b"ustar\0\0\0");
        assert_eq!(
            TarArchive::parse(&Builder::default().entry(block, &[]).finish()),
            Err(TarError::BadMagic { offset: 0 })
        );
        let not_tar = [0x1f; 2 * BLOCK_SIZE];
        assert_eq!(TarArchive::parse(&not_tar), Err(TarError::BadMagic { offset: 0 }));
    }

    #[test]
    fn sizes_must_be_octal_and_base_256_is_refused() {
        let mut block = header("a", 0, b'0');
        block[124..136].copy_from_slice(b"00000000009\0");
        seal(&mut block);
        let bytes = Builder::default().entry(block, &[]).finish();
        assert_eq!(TarArchive::parse(&bytes), Err(TarError::BadSize { offset: 0 }));
        block[124..136].copy_from_slice(&[0; 12]);
        seal(&mut block);
        let bytes = Builder::default().entry(block, &[]).finish();
        assert_eq!(TarArchive::parse(&bytes), Err(TarError::BadSize { offset: 0 }));
        block[124..136].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        seal(&mut block);
        let bytes = Builder::default().entry(block, &[0]).finish();
        assert_eq!(TarArchive::parse(&bytes), Err(TarError::UnsupportedSize { offset: 0 }));
    }

    #[test]
    fn names_must_be_utf8_and_non_empty() {
        let mut block = header("", 0, b'0');
        block[..3].copy_from_slice(&[b'a', 0xff, b'b']);
        seal(&mut block);
        let bytes = Builder::default().file("ok", b"").entry(block, &[]).finish();
        assert_eq!(TarArchive::parse(&bytes), Err(TarError::BadName { offset: BLOCK_SIZE }));
        for name in ["", "./"] {
            let bytes = Builder::default().file(name, b"").finish();
            assert_eq!(
                TarArchive::parse(&bytes),
                Err(TarError::BadName { offset: 0 }),
                "{name:?}"
            );
        }
    }

    #[test]
    fn a_name_filling_its_whole_field_needs_no_terminator() {
        let name = "n".repeat(100);
        let bytes = Builder::default().file(&name, b"1").finish();
        assert_eq!(TarArchive::parse(&bytes).unwrap().file(&name).unwrap().data, b"1");
    }

    #[test]
    fn posix_prefixes_are_joined_and_gnu_headers_ignore_them() {
        let mut block = header("dom0.elf", 1, b'0');
        block[345..355].copy_from_slice(b"./kernels\0");
        seal(&mut block);
        let bytes = Builder::default().entry(block, b"k").finish();
        let archive = TarArchive::parse(&bytes).unwrap();
        assert_eq!(names(&archive), ["kernels/dom0.elf"]);
        assert_eq!(archive.file("kernels/dom0.elf").unwrap().data, b"k");
        assert_eq!(archive.file("dom0.elf"), None);
        assert_eq!(archive.file("kernelsdom0.elf"), None);

        block[257..265].copy_from_slice(&GNU_MAGIC);
        block[345..355].copy_from_slice(&[0xff; 10]);
        seal(&mut block);
        let bytes = Builder::default().entry(block, b"k").finish();
        assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["dom0.elf"]);
    }

    #[test]
    fn names_display_joined_and_padded_like_strings() {
        let split = TarName::new("dir", "file");
        assert_eq!(format!("[{split}]"), "[dir/file]");
        assert_eq!(format!("[{split:<10}]"), "[dir/file  ]");
        assert_eq!(format!("[{split:>10}]"), "[  dir/file]");
        assert_eq!(format!("[{split:*^11}]"), "[*dir/file**]");
        assert_eq!(format!("[{split:4}]"), "[dir/file]");
        assert_eq!(format!("[{:<6}]", TarName::new("", "ab")), "[ab    ]");
    }

    #[test]
    fn names_split_differently_are_the_same_name() {
        let mut block = header("b/c", 0, b'0');
        block[345..346].copy_from_slice(b"a");
        seal(&mut block);
        let bytes = Builder::default().file("a/b/c", b"").entry(block, &[]).finish();
        assert_eq!(
            TarArchive::parse(&bytes),
            Err(TarError::DuplicateName { offset: BLOCK_SIZE })
        );
    }

    #[test]
    fn gnu_long_names_name_the_next_entry() {
        let long = format!("{}/dom0.elf", "d".repeat(120));
        let record = format!("{long}\0");
        let bytes = Builder::default()
            .entry(header("././@LongLink", record.len(), b'L'), record.as_bytes())
            .file("truncated-name", b"elf")
            .file("short", b"s")
            .finish();
        let archive = TarArchive::parse(&bytes).unwrap();
        assert_eq!(names(&archive), [long.as_str(), "short"]);
        assert_eq!(archive.file(&long).unwrap().data, b"elf");
    }

    #[test]
    fn pax_paths_name_the_next_entry_and_other_records_are_ignored() {
        let records = pax_record("mtime", "1.5") + &pax_record("path", "./long/name") + &pax_record("x", "");
        let global = pax_record("comment", "ignored");
        let bytes = Builder::default()
            .entry(header("PaxHeaders/name", records.len(), b'x'), records.as_bytes())
            .entry(header("PaxHeaders/global", global.len(), b'g'), global.as_bytes())
            .file("name", b"data")
            .finish();
        assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["long/name"]);
    }

    #[test]
    fn a_long_name_for_a_skipped_entry_is_dropped_with_it() {
        let record = "some-directory\0";
        let bytes = Builder::default()
            .entry(header("././@LongLink", record.len(), b'L'), record.as_bytes())
            .entry(header("some-dir", 0, b'5'), &[])
            .file("next", b"")
            .finish();
        assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["next"]);
    }

    #[test]
    fn malformed_or_dangling_extended_headers_are_refused() {
        for records in ["5 a=b", "3 a=b\n", "x a=b\n", "6 ab\n\n", "99 path=a\n", "0 \n"] {
            let bytes = Builder::default()
                .entry(header("pax", records.len(), b'x'), records.as_bytes())
                .file("a", b"")
                .finish();
            assert_eq!(
                TarArchive::parse(&bytes),
                Err(TarError::BadExtendedHeader { offset: 0 }),
                "{records:?}"
            );
        }
        let dangling = Builder::default()
            .entry(header("././@LongLink", 2, b'L'), b"a\0")
            .finish();
        assert_eq!(
            TarArchive::parse(&dangling),
            Err(TarError::BadExtendedHeader { offset: 0 })
        );
        let bad_utf8 = Builder::default().entry(header("L", 2, b'L'), &[0xc3, 0]).finish();
        assert_eq!(TarArchive::parse(&bad_utf8), Err(TarError::BadName { offset: 0 }));
    }

    #[test]
    fn links_devices_and_old_style_directories_are_skipped() {
        let bytes = Builder::default()
            .entry(header("hard", 0, b'1'), &[])
            .entry(header("soft", 0, b'2'), &[])
            .entry(header("fifo", 0, b'6'), &[])
            .entry(header("old-dir/", 0, b'0'), &[])
            .entry(header("contiguous", 1, b'7'), b"c")
            .entry(header("vendor", 3, b'V'), b"abc")
            .finish();
        assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["contiguous"]);
    }

    #[test]
    fn duplicate_names_and_too_many_files_are_refused() {
        let bytes = Builder::default().file("a", b"").file("./a", b"").finish();
        assert_eq!(
            TarArchive::parse(&bytes),
            Err(TarError::DuplicateName { offset: BLOCK_SIZE })
        );
        let mut builder = Builder::default();
        for index in 0..MAX_FILES {
            builder = builder.file(&format!("f{index}"), b"");
        }
        let full = builder.finish();
        assert_eq!(TarArchive::parse(&full).unwrap().files().count(), MAX_FILES);
        let mut builder = Builder {
            bytes: full[..full.len() - 2 * BLOCK_SIZE].to_vec(),
        };
        builder = builder.file("one-too-many", b"");
        assert_eq!(
            TarArchive::parse(&builder.finish()),
            Err(TarError::TooManyFiles {
                offset: MAX_FILES * BLOCK_SIZE
            })
        );
    }

    #[test]
    fn errors_read_as_one_line() {
        assert_eq!(
            TarError::BadChecksum { offset: 1024 }.to_string(),
            "tar: bad header checksum at offset 1024"
        );
        assert_eq!(
            TarError::Truncated { offset: 0 }.to_string(),
            "tar: archive cut short at offset 0"
        );
    }

    /// Archives made by the real `tar` command, when the host has one.
    mod real_tar {
        use super::*;
        use std::path::PathBuf;
        use std::process::Command;
        use std::sync::atomic::{AtomicUsize, Ordering};

        static NEXT_DIRECTORY: AtomicUsize = AtomicUsize::new(0);

        /// Packs `files` from a fresh directory with `tar --format=<format>`, or
        /// `None` when no `tar` can be run.
        fn pack(format: &str, files: &[(&str, &[u8])], root_as_dot: bool) -> Option<StdVec<u8>> {
            let unique = NEXT_DIRECTORY.fetch_add(1, Ordering::Relaxed);
            let directory: PathBuf =
                std::env::temp_dir().join(format!("xen-core-tar-{}-{format}-{unique}", std::process::id()));
            let root = directory.join("root");
            for (name, data) in files {
                let path = root.join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, data).unwrap();
            }
            let archive = directory.join("bundle.tar");
            let mut command = Command::new("tar");
            command
                .arg(format!("--format={format}"))
                .arg("-cf")
                .arg(&archive)
                .arg("-C")
                .arg(&root);
            if root_as_dot {
                command.arg(".");
            } else {
                command.args(files.iter().map(|(name, _)| name));
            }
            let packed = match command.status() {
                Ok(status) if status.success() => Some(std::fs::read(&archive).unwrap()),
                Ok(status) => panic!("tar --format={format} failed: {status}"),
                Err(error) => {
                    std::eprintln!("skipping: cannot run tar: {error}");
                    None
                }
            };
            std::fs::remove_dir_all(&directory).unwrap();
            packed
        }

        #[test]
        fn archives_from_the_tar_command_read_back_in_every_format() {
            // Too long for the 100-byte name field, short enough for every format to
            // store: a ustar prefix, a GNU long-name entry or a pax path record.
            let long_name = format!("{}/kernel-with-a-long-name.elf", "long-directory-name-".repeat(4));
            let kernel: StdVec<u8> = (0..3000u32).map(|i| i as u8).collect();
            let files: [(&str, &[u8]); 4] = [
                ("manifest", b"xen-core-manifest 1\n"),
                ("dom0.elf", &kernel),
                (&long_name, b"long"),
                ("empty", b""),
            ];
            for format in ["gnu", "ustar", "posix"] {
                for root_as_dot in [false, true] {
                    let Some(bytes) = pack(format, &files, root_as_dot) else {
                        return;
                    };
                    let archive =
                        TarArchive::parse(&bytes).unwrap_or_else(|error| panic!("--format={format}: {error}"));
                    assert_eq!(archive.files().count(), files.len(), "--format={format}");
                    for (name, data) in files {
                        let file = archive.file(name).unwrap_or_else(|| panic!("{format}: {name}"));
                        assert_eq!(file.data, data, "--format={format} {name}");
                    }
                }
            }
        }

        #[test]
        fn the_v7_format_without_magic_is_refused() {
            let Some(bytes) = pack("v7", &[("a", b"x")], false) else {
                return;
            };
            assert_eq!(TarArchive::parse(&bytes), Err(TarError::BadMagic { offset: 0 }));
        }
    }

    /// Checks what every accepted archive promises: data borrowed in place, within
    /// the limit of files.
    fn check_accepted(bytes: &[u8]) {
        if let Ok(archive) = TarArchive::parse(bytes) {
            assert!(archive.files().count() <= MAX_FILES);
            for file in archive.files() {
                let in_place = bytes.get(file.offset..file.offset + file.data.len());
                assert_eq!(in_place.map(<[u8]>::as_ptr), Some(file.data.as_ptr()));
                assert!(!file.name.is_empty());
            }
        }
    }

    /// An entry of any type with random data, a valid checksum and a size that may lie.
    fn any_entry() -> impl Strategy<Value = StdVec<u8>> {
        let typeflag = prop_oneof![Just(b'0'), Just(b'5'), Just(b'x'), Just(b'L'), Just(b'g'), any::<u8>()];
        let data = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..1100),
            "([0-9]{1,3} [a-z]{1,5}=[a-z./]{0,9}\n){0,3}".prop_map(String::into_bytes),
        ];
        (typeflag, data, -600i64..600, "[a-z./]{0,12}").prop_map(|(typeflag, data, lie, name)| {
            let size = (data.len() as i64 + lie).max(0) as usize;
            Builder::default().entry(header(&name, size, typeflag), &data).bytes
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            check_accepted(&bytes);
        }

        #[test]
        fn flipped_or_truncated_archives_never_panic(
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
            keep in any::<usize>(),
        ) {
            let mut bytes = sample();
            for (index, value) in flips {
                let len = bytes.len();
                bytes[index % len] = value;
            }
            check_accepted(&bytes);
            check_accepted(&bytes[..keep % (bytes.len() + 1)]);
        }

        #[test]
        fn sequences_of_well_formed_headers_never_panic(
            entries in proptest::collection::vec(any_entry(), 0..6),
            end_marker in any::<bool>(),
        ) {
            let mut bytes: StdVec<u8> = entries.concat();
            if end_marker {
                bytes.extend_from_slice(&[0; BLOCK_SIZE]);
            }
            check_accepted(&bytes);
        }
    }
}
