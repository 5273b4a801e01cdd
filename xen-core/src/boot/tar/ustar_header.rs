//! The ustar header block: its layout, the POSIX and GNU magics, the checksum, and
//! the octal numbers and strings in its fields.

use crate::boot::tar::{TarError, TarName};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Size of a header and the unit data is padded to. It lives with the header
/// whose size it is, so that this file need not import it from `tar.rs`, which
/// reads archives through this header.
pub const BLOCK_SIZE: usize = 512;

/// A ustar header block. Every field is bytes, so any block can be viewed as one.
#[repr(C)]
#[derive(FromBytes, IntoBytes, Immutable, KnownLayout)]
pub(super) struct UstarHeader {
    pub(super) name: [u8; 100],
    pub(super) mode: [u8; 8],
    pub(super) uid: [u8; 8],
    pub(super) gid: [u8; 8],
    pub(super) size: [u8; 12],
    pub(super) mtime: [u8; 12],
    pub(super) checksum: [u8; 8],
    pub(super) typeflag: u8,
    pub(super) linkname: [u8; 100],
    /// The magic and version fields together.
    pub(super) magic: [u8; 8],
    pub(super) uname: [u8; 32],
    pub(super) gname: [u8; 32],
    pub(super) devmajor: [u8; 8],
    pub(super) devminor: [u8; 8],
    pub(super) prefix: [u8; 155],
    pub(super) padding: [u8; 12],
}

const _: () = assert!(core::mem::size_of::<UstarHeader>() == BLOCK_SIZE);

/// Where the checksum field lies in a header.
const CHECKSUM_FIELD: core::ops::Range<usize> = {
    let start = core::mem::offset_of!(UstarHeader, checksum);
    start..start + 8
};

pub(super) const POSIX_MAGIC: [u8; 8] = *b"ustar\x0000";
pub(super) const GNU_MAGIC: [u8; 8] = *b"ustar  \x00";

impl UstarHeader {
    /// Checks the magic and then the checksum.
    pub(super) fn validate(&self, offset: usize) -> Result<(), TarError> {
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
    pub(super) fn size(&self, offset: usize) -> Result<u64, TarError> {
        // GNU's base-256 sizes set the top bit of the first byte.
        if self.size.first().is_some_and(|&byte| byte & 0x80 != 0) {
            return Err(TarError::UnsupportedSize { offset });
        }
        parse_octal(&self.size).ok_or(TarError::BadSize { offset })
    }

    /// The name from the header's own fields.
    pub(super) fn name(&self, offset: usize) -> Result<TarName<'_>, TarError> {
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

/// A NUL-terminated (or field-filling) header string, if UTF-8.
pub(super) fn field_str(field: &[u8]) -> Option<&str> {
    let end = field.iter().position(|&byte| byte == 0).unwrap_or(field.len());
    core::str::from_utf8(field.get(..end)?).ok()
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
