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
//!
//! The header layout and its size, [`BLOCK_SIZE`], are in `ustar_header`, names in
//! `tar_name`, GNU long names and pax records in `extended_header`, and the reasons
//! for refusing in `tar_error`; none of them imports from this file.

use extended_header::{long_name_record, pax_path};
use heapless::Vec;
use ustar_header::UstarHeader;
use zerocopy::{FromBytes, IntoBytes};

mod extended_header;
mod tar_error;
mod tar_name;
mod ustar_header;

pub use tar_error::TarError;
pub use tar_name::TarName;
pub use ustar_header::BLOCK_SIZE;

/// Most regular files an archive may hold.
pub const MAX_FILES: usize = 32;

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

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod real_tar_tests;
#[cfg(test)]
mod test_tar;
#[cfg(test)]
mod tests;
