//! Extended headers that name the entry after them: a GNU `'L'` entry's long name
//! and a pax `'x'` entry's `path` record.

use crate::boot::tar::TarError;
use crate::boot::tar::ustar_header::field_str;

/// The name in a GNU `'L'` entry's data: text up to the first NUL.
pub(super) fn long_name_record(data: &[u8], offset: usize) -> Result<&str, TarError> {
    field_str(data).ok_or(TarError::BadName { offset })
}

/// The `path` record of a pax extended header, if it has one.
///
/// Records read `<length> <key>=<value>\n`, where the decimal length counts the
/// whole record, its own digits included.
pub(super) fn pax_path(records: &[u8], offset: usize) -> Result<Option<&str>, TarError> {
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
