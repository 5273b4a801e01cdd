//! The ELF64 layouts an image is read through (file, program, section and note
//! headers), the numbers that identify an x86-64 executable, and where a range of
//! the file lies.
//!
//! Only layouts and numbers: checking them is done where an [`ImageError`] is made
//! (`elf_image.rs`, `header_table`, `load_segment`, `note_area`), so that this file
//! does not import `image_error`, whose messages quote these numbers.
//!
//! [`ImageError`]: crate::domain::elf_image::ImageError

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

pub(super) const ELF_MAGIC: [u8; 4] = *b"\x7fELF";
pub(super) const ELFCLASS64: u8 = 2;
pub(super) const ELFDATA2LSB: u8 = 1;
pub(super) const EV_CURRENT: u8 = 1;
pub(super) const EM_X86_64: u16 = 62;
pub(super) const ET_EXEC: u16 = 2;
pub(super) const ET_DYN: u16 = 3;
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

/// The byte range `[offset, offset + size)` if it lies inside a `file_len`-byte file.
pub(super) fn file_range(offset: u64, size: u64, file_len: usize) -> Option<core::ops::Range<usize>> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(size).ok()?)?;
    (end <= file_len).then_some(start..end)
}
