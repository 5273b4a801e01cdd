//! Reading a header table (program or section headers) out of the file, checked
//! against the ELF64 entry size and the file's end.

use crate::domain::elf_image::elf_headers::file_range;
use crate::domain::elf_image::image_error::{ImageError, Table};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// The `count` headers of type `T` at `offset`, which must have `T`'s size.
pub(super) fn header_table<T: FromBytes + Immutable + KnownLayout + Unaligned>(
    bytes: &[u8],
    table: Table,
    offset: u64,
    count: u16,
    entry_size: u16,
) -> Result<&[T], ImageError> {
    // An empty table's offset and entry size mean nothing; linkers leave them 0.
    if count == 0 {
        return Ok(&[]);
    }
    if usize::from(entry_size) != core::mem::size_of::<T>() {
        return Err(ImageError::BadEntrySize {
            table,
            size: entry_size,
        });
    }
    let out_of_bounds = ImageError::TableOutOfBounds {
        table,
        offset,
        count,
        file_len: bytes.len(),
    };
    let size = u64::from(count).saturating_mul(u64::from(entry_size));
    let range = file_range(offset, size, bytes.len()).ok_or(out_of_bounds)?;
    let table_bytes = bytes.get(range).ok_or(out_of_bounds)?;
    <[T]>::ref_from_bytes(table_bytes).map_err(|_| out_of_bounds)
}
