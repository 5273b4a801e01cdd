//! The ELF64 layouts an image is read through (file, program, section and note
//! headers), the numbers that identify an x86-64 executable, and reading the header
//! tables out of the file.

use crate::domain::elf_image::image_error::{ImageError, Table};
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

const ELF_MAGIC: [u8; 4] = *b"\x7fELF";
pub(super) const ELFCLASS64: u8 = 2;
pub(super) const ELFDATA2LSB: u8 = 1;
pub(super) const EV_CURRENT: u8 = 1;
pub(super) const EM_X86_64: u16 = 62;
pub(super) const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
pub(super) const PT_LOAD: u32 = 1;
pub(super) const PT_NOTE: u32 = 4;
pub(super) const SHT_NOTE: u32 = 7;
/// Note names and descriptors are padded to this, as libelf reads them on ELF64 too.
pub(super) const NOTE_ALIGN: usize = 4;

/// The ELF64 file header.
#[repr(C)]
#[derive(Debug, FromBytes, Immutable, KnownLayout, Unaligned)]
pub(super) struct FileHeader {
    pub(super) ident: [u8; 16],
    pub(super) kind: U16,
    pub(super) machine: U16,
    pub(super) version: U32,
    pub(super) entry: U64,
    pub(super) program_header_offset: U64,
    pub(super) section_header_offset: U64,
    pub(super) flags: U32,
    pub(super) header_size: U16,
    pub(super) program_header_size: U16,
    pub(super) program_header_count: U16,
    pub(super) section_header_size: U16,
    pub(super) section_header_count: U16,
    pub(super) section_names_index: U16,
}

/// An ELF64 program header.
#[repr(C)]
#[derive(Debug, FromBytes, Immutable, KnownLayout, Unaligned)]
pub(super) struct ProgramHeader {
    pub(super) kind: U32,
    pub(super) flags: U32,
    pub(super) offset: U64,
    pub(super) vaddr: U64,
    pub(super) paddr: U64,
    pub(super) file_size: U64,
    pub(super) mem_size: U64,
    pub(super) align: U64,
}

/// An ELF64 section header.
#[repr(C)]
#[derive(Debug, FromBytes, Immutable, KnownLayout, Unaligned)]
pub(super) struct SectionHeader {
    pub(super) name: U32,
    pub(super) kind: U32,
    pub(super) flags: U64,
    pub(super) addr: U64,
    pub(super) offset: U64,
    pub(super) size: U64,
    pub(super) link: U32,
    pub(super) info: U32,
    pub(super) align: U64,
    pub(super) entry_size: U64,
}

/// The fixed part of an ELF note; the name and descriptor follow, each padded.
#[repr(C)]
#[derive(Debug, FromBytes, Immutable, KnownLayout, Unaligned)]
pub(super) struct NoteHeader {
    pub(super) name_size: U32,
    pub(super) descriptor_size: U32,
    pub(super) kind: U32,
}

pub(super) const FILE_HEADER_SIZE: usize = core::mem::size_of::<FileHeader>();
pub(super) const NOTE_HEADER_SIZE: usize = core::mem::size_of::<NoteHeader>();
const _: () = assert!(FILE_HEADER_SIZE == 64);
const _: () = assert!(core::mem::size_of::<ProgramHeader>() == 56);
const _: () = assert!(core::mem::size_of::<SectionHeader>() == 64);
const _: () = assert!(NOTE_HEADER_SIZE == 12);

impl FileHeader {
    /// Checks that this is an x86-64 executable we can read.
    pub(super) fn check_identity(&self) -> Result<(), ImageError> {
        let [m0, m1, m2, m3, class, data, version, ..] = self.ident;
        if [m0, m1, m2, m3] != ELF_MAGIC {
            return Err(ImageError::NotElf);
        }
        if class != ELFCLASS64 {
            return Err(ImageError::WrongClass { class });
        }
        if data != ELFDATA2LSB {
            return Err(ImageError::WrongByteOrder { data });
        }
        if version != EV_CURRENT {
            return Err(ImageError::WrongVersion { version });
        }
        let machine = self.machine.get();
        if machine != EM_X86_64 {
            return Err(ImageError::WrongMachine { machine });
        }
        match self.kind.get() {
            ET_EXEC => Ok(()),
            ET_DYN => Err(ImageError::PositionIndependent),
            kind => Err(ImageError::WrongType { kind }),
        }
    }
}

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

/// The byte range `[offset, offset + size)` if it lies inside a `file_len`-byte file.
pub(super) fn file_range(offset: u64, size: u64, file_len: usize) -> Option<core::ops::Range<usize>> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(size).ok()?)?;
    (end <= file_len).then_some(start..end)
}
