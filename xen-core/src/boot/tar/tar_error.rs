//! Why an archive was refused: [`TarError`], with the offset of the header at fault.

use core::fmt;

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
    /// The archive holds more than [`MAX_FILES`](crate::boot::tar::MAX_FILES) regular files.
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
