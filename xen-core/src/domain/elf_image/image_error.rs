//! Why an image was refused: [`ImageError`], and the header tables and address
//! spaces its messages name.

use crate::domain::elf_image::elf_headers::{
    ELFCLASS64, ELFDATA2LSB, EM_X86_64, ET_EXEC, EV_CURRENT, FILE_HEADER_SIZE, ProgramHeader, SectionHeader,
};
use crate::domain::elf_image::limits::{MAX_IMAGE_BYTES, MAX_LOAD_SEGMENTS};
use core::fmt;

/// A header table of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// The program headers (segments).
    Program,
    /// The section headers.
    Section,
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Table::Program => "program header",
            Table::Section => "section header",
        })
    }
}

/// The address a segment range is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressSpace {
    /// `p_vaddr`, where the segment is linked.
    Virtual,
    /// `p_paddr`, where Xen's loader places it.
    Physical,
}

impl fmt::Display for AddressSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressSpace::Virtual => "virtual",
            AddressSpace::Physical => "physical",
        })
    }
}

/// Why an image was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// The file is shorter than an ELF64 header.
    TooShort {
        /// Length of the file.
        len: usize,
    },
    /// The file does not start with the ELF magic.
    NotElf,
    /// The file is not ELF64.
    WrongClass {
        /// `e_ident[EI_CLASS]`.
        class: u8,
    },
    /// The file is not little-endian.
    WrongByteOrder {
        /// `e_ident[EI_DATA]`.
        data: u8,
    },
    /// The file is not ELF version 1.
    WrongVersion {
        /// `e_ident[EI_VERSION]`.
        version: u8,
    },
    /// The file is not for x86-64.
    WrongMachine {
        /// `e_machine`.
        machine: u16,
    },
    /// The file is `ET_DYN`: a PV kernel must be linked where it runs.
    PositionIndependent,
    /// The file is neither `ET_EXEC` nor `ET_DYN`.
    WrongType {
        /// `e_type`.
        kind: u16,
    },
    /// A header table's entries do not have their ELF64 size.
    BadEntrySize {
        /// The table.
        table: Table,
        /// `e_phentsize` or `e_shentsize`.
        size: u16,
    },
    /// A header table runs past the end of the file.
    TableOutOfBounds {
        /// The table.
        table: Table,
        /// Its file offset.
        offset: u64,
        /// Its number of entries.
        count: u16,
        /// Length of the file.
        file_len: usize,
    },
    /// A segment's or section's file bytes run past the end of the file.
    HeaderPointsOutside {
        /// The table of the header.
        table: Table,
        /// Index of the header.
        index: usize,
        /// The bytes' file offset.
        offset: u64,
        /// Their size.
        size: u64,
        /// Length of the file.
        file_len: usize,
    },
    /// A segment has more file bytes than memory bytes.
    FileLargerThanMemory {
        /// Index of the program header.
        index: usize,
        /// `p_filesz`.
        file_size: u64,
        /// `p_memsz`.
        mem_size: u64,
    },
    /// A segment alone is larger than [`MAX_IMAGE_BYTES`].
    SegmentTooLarge {
        /// Index of the program header.
        index: usize,
        /// `p_memsz`.
        mem_size: u64,
    },
    /// A segment's range wraps past the top of the address space.
    AddressOverflow {
        /// Index of the program header.
        index: usize,
        /// Which address wraps.
        space: AddressSpace,
        /// `p_vaddr` or `p_paddr`.
        start: u64,
        /// `p_memsz`.
        size: u64,
    },
    /// More than [`MAX_LOAD_SEGMENTS`] loadable segments.
    TooManySegments {
        /// Index of the program header that did not fit.
        index: usize,
    },
    /// Two loadable segments overlap.
    SegmentsOverlap {
        /// The addresses compared.
        space: AddressSpace,
        /// Index of the lower segment's program header.
        first: usize,
        /// Index of the other one.
        second: usize,
    },
    /// The loadable segments span more than [`MAX_IMAGE_BYTES`] of physical addresses.
    ImageTooLarge {
        /// Bytes from the lowest start to the highest end.
        span: u64,
    },
    /// No loadable segment.
    NoLoadSegment,
    /// A note runs past the end of its segment or section.
    TruncatedNote {
        /// File offset of the note.
        offset: usize,
        /// File offset where its area ends.
        area_end: usize,
    },
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("guest image: ")?;
        match *self {
            ImageError::TooShort { len } => {
                write!(
                    f,
                    "{len} bytes is too short for an ELF64 header ({FILE_HEADER_SIZE} bytes)"
                )
            }
            ImageError::NotElf => f.write_str("not an ELF file (bad magic)"),
            ImageError::WrongClass { class } => write!(f, "ELF class {class} is not ELF64 ({ELFCLASS64})"),
            ImageError::WrongByteOrder { data } => {
                write!(f, "ELF data encoding {data} is not little-endian ({ELFDATA2LSB})")
            }
            ImageError::WrongVersion { version } => write!(f, "ELF version {version} is not {EV_CURRENT}"),
            ImageError::WrongMachine { machine } => write!(f, "machine {machine} is not x86-64 ({EM_X86_64})"),
            ImageError::PositionIndependent => f.write_str(
                "position-independent (ET_DYN) images are not supported; a PV kernel must be linked as ET_EXEC",
            ),
            ImageError::WrongType { kind } => write!(f, "ELF type {kind} is not an executable (ET_EXEC, {ET_EXEC})"),
            ImageError::BadEntrySize { table, size } => {
                let expected = match table {
                    Table::Program => core::mem::size_of::<ProgramHeader>(),
                    Table::Section => core::mem::size_of::<SectionHeader>(),
                };
                write!(f, "{table} entries are {size} bytes, not {expected}")
            }
            ImageError::TableOutOfBounds {
                table,
                offset,
                count,
                file_len,
            } => write!(
                f,
                "the {table} table ({count} entries at offset {offset:#x}) runs past the end of the file \
                 ({file_len:#x} bytes)"
            ),
            ImageError::HeaderPointsOutside {
                table,
                index,
                offset,
                size,
                file_len,
            } => write!(
                f,
                "{table} {index} points past the end of the file (offset {offset:#x}, {size:#x} bytes, \
                 file {file_len:#x} bytes)"
            ),
            ImageError::FileLargerThanMemory {
                index,
                file_size,
                mem_size,
            } => write!(
                f,
                "program header {index} has {file_size:#x} bytes in the file but only {mem_size:#x} in memory"
            ),
            ImageError::SegmentTooLarge { index, mem_size } => write!(
                f,
                "program header {index} asks for {mem_size:#x} bytes of memory, more than the {MAX_IMAGE_BYTES:#x} \
                 allowed"
            ),
            ImageError::AddressOverflow {
                index,
                space,
                start,
                size,
            } => write!(
                f,
                "program header {index}'s {space} range ({size:#x} bytes at {start:#x}) wraps past the top of \
                 the address space"
            ),
            ImageError::TooManySegments { index } => write!(
                f,
                "program header {index} is one loadable segment too many (at most {MAX_LOAD_SEGMENTS})"
            ),
            ImageError::SegmentsOverlap { space, first, second } => {
                write!(f, "the {space} ranges of program headers {first} and {second} overlap")
            }
            ImageError::ImageTooLarge { span } => write!(
                f,
                "the loadable segments span {span:#x} bytes of physical addresses, more than the \
                 {MAX_IMAGE_BYTES:#x} allowed"
            ),
            ImageError::NoLoadSegment => f.write_str("no loadable (PT_LOAD) segment"),
            ImageError::TruncatedNote { offset, area_end } => write!(
                f,
                "the ELF note at offset {offset:#x} runs past the end of its note area at {area_end:#x}"
            ),
        }
    }
}
