//! The ELF image of a PV guest kernel: its headers, loadable segments and Xen notes.
//!
//! The image comes from the boot bundle or from a toolstack, so nothing in it is
//! trusted. [`ElfImage::parse`] checks everything the domain builder will rely on
//! once, so that later reads cannot fail:
//! - the file header: ELF64, little-endian, version 1, x86-64, `ET_EXEC` (a PV kernel
//!   runs where it is linked, so position-independent `ET_DYN` images are refused);
//! - the program and section header tables lie inside the file, with the entry sizes
//!   of ELF64 (56 and 64 bytes);
//! - every `PT_LOAD` segment: file bytes inside the file and no more than its memory
//!   size, virtual and physical ranges that neither wrap nor overlap another
//!   segment's; at least one, at most [`MAX_LOAD_SEGMENTS`], spanning at most
//!   [`MAX_IMAGE_BYTES`] of physical addresses;
//! - every note in the segments or sections the Xen notes are read from is whole.
//!
//! Only the physical span is bounded because Xen's loader places segments by
//! `p_paddr` and ignores `p_vaddr`: Linux x86-64 kernels before 6.15 link their
//! per-CPU segment at virtual address 0, far below the rest of the kernel, yet load
//! it right after the data.
//!
//! Which notes count follows Xen's libelf (`libelf-dominfo.c`, `elf_xen_parse`):
//! every `PT_NOTE` segment is read, except one whose file offset is 0 (some binutils
//! versions wrote such broken headers); only if none of them holds a Xen note are
//! the `SHT_NOTE` sections read instead. Mini-OS needs that fallback: its notes sit
//! in a section that no segment covers. The legacy `__xen_guest` string section that
//! libelf accepts as a last resort is not read.
//!
//! Like libelf, a `PT_LOAD` segment without any of the R, W or X permissions is not
//! loadable: it is checked like the others but not kept. Extended header numbering
//! (counts beyond 0xfeff kept in section 0) is not honoured; no kernel needs it.

use bitflags::bitflags;
use core::fmt;
use heapless::Vec;
use xen_abi::elfnote::XEN_ELFNOTE_NAME;
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// Most loadable segments an image may have; kernels have two to four.
pub const MAX_LOAD_SEGMENTS: usize = 16;

/// Most bytes the loadable segments may span in physical addresses, where they load.
///
/// Every byte of the span becomes guest memory the builder must allocate and map
/// before the guest runs. Linux and Mini-OS images need a few tens of MiB; 1 GiB
/// leaves room while keeping a hostile header from asking for the whole machine, and
/// keeps every sum of sizes far from overflowing.
pub const MAX_IMAGE_BYTES: u64 = 1 << 30;

const ELF_MAGIC: [u8; 4] = *b"\x7fELF";
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const EV_CURRENT: u8 = 1;
const EM_X86_64: u16 = 62;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const SHT_NOTE: u32 = 7;
/// Note names and descriptors are padded to this, as libelf reads them on ELF64 too.
const NOTE_ALIGN: usize = 4;

/// The ELF64 file header.
#[repr(C)]
#[derive(Debug, FromBytes, Immutable, KnownLayout, Unaligned)]
struct FileHeader {
    ident: [u8; 16],
    kind: U16,
    machine: U16,
    version: U32,
    entry: U64,
    program_header_offset: U64,
    section_header_offset: U64,
    flags: U32,
    header_size: U16,
    program_header_size: U16,
    program_header_count: U16,
    section_header_size: U16,
    section_header_count: U16,
    section_names_index: U16,
}

/// An ELF64 program header.
#[repr(C)]
#[derive(Debug, FromBytes, Immutable, KnownLayout, Unaligned)]
struct ProgramHeader {
    kind: U32,
    flags: U32,
    offset: U64,
    vaddr: U64,
    paddr: U64,
    file_size: U64,
    mem_size: U64,
    align: U64,
}

/// An ELF64 section header.
#[repr(C)]
#[derive(Debug, FromBytes, Immutable, KnownLayout, Unaligned)]
struct SectionHeader {
    name: U32,
    kind: U32,
    flags: U64,
    addr: U64,
    offset: U64,
    size: U64,
    link: U32,
    info: U32,
    align: U64,
    entry_size: U64,
}

/// The fixed part of an ELF note; the name and descriptor follow, each padded.
#[repr(C)]
#[derive(Debug, FromBytes, Immutable, KnownLayout, Unaligned)]
struct NoteHeader {
    name_size: U32,
    descriptor_size: U32,
    kind: U32,
}

const FILE_HEADER_SIZE: usize = core::mem::size_of::<FileHeader>();
const NOTE_HEADER_SIZE: usize = core::mem::size_of::<NoteHeader>();
const _: () = assert!(FILE_HEADER_SIZE == 64);
const _: () = assert!(core::mem::size_of::<ProgramHeader>() == 56);
const _: () = assert!(core::mem::size_of::<SectionHeader>() == 64);
const _: () = assert!(NOTE_HEADER_SIZE == 12);

bitflags! {
    /// A segment's permissions (`p_flags`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct SegmentFlags: u32 {
        /// Executable (`PF_X`).
        const X = 1;
        /// Writable (`PF_W`).
        const W = 2;
        /// Readable (`PF_R`).
        const R = 4;
    }
}

/// A loadable (`PT_LOAD`) segment, checked against its image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadSegment {
    /// Index of its program header, for messages.
    pub header_index: usize,
    /// Virtual address it is linked at (`p_vaddr`).
    pub vaddr: u64,
    /// Physical address (`p_paddr`); Xen's loader places segments by this one.
    pub paddr: u64,
    /// Where its bytes start in the file.
    pub file_offset: usize,
    /// Bytes taken from the file; the rest of `mem_size` is zero-filled.
    pub file_size: usize,
    /// Bytes it occupies in memory.
    pub mem_size: u64,
    /// Its permissions.
    pub flags: SegmentFlags,
}

impl LoadSegment {
    /// The bytes to copy from `image`: empty if this segment does not come from it.
    pub fn data<'a>(&self, image: &ElfImage<'a>) -> &'a [u8] {
        let end = self.file_offset.saturating_add(self.file_size);
        image.bytes.get(self.file_offset..end).unwrap_or_default()
    }

    /// Checks the program header at `index` as a loadable segment of a `file_len`-byte file.
    fn from_header(index: usize, header: &ProgramHeader, file_len: usize) -> Result<LoadSegment, ImageError> {
        let (offset, file_size, mem_size) = (header.offset.get(), header.file_size.get(), header.mem_size.get());
        let file_range = file_range(offset, file_size, file_len).ok_or(ImageError::HeaderPointsOutside {
            table: Table::Program,
            index,
            offset,
            size: file_size,
            file_len,
        })?;
        if file_size > mem_size {
            return Err(ImageError::FileLargerThanMemory {
                index,
                file_size,
                mem_size,
            });
        }
        if mem_size > MAX_IMAGE_BYTES {
            return Err(ImageError::SegmentTooLarge { index, mem_size });
        }
        for (space, start) in [
            (AddressSpace::Virtual, header.vaddr.get()),
            (AddressSpace::Physical, header.paddr.get()),
        ] {
            if start.checked_add(mem_size).is_none() {
                return Err(ImageError::AddressOverflow {
                    index,
                    space,
                    start,
                    size: mem_size,
                });
            }
        }
        Ok(LoadSegment {
            header_index: index,
            vaddr: header.vaddr.get(),
            paddr: header.paddr.get(),
            file_offset: file_range.start,
            file_size: file_range.len(),
            mem_size,
            flags: SegmentFlags::from_bits_truncate(header.flags.get()),
        })
    }

    /// Where the segment starts in `space`.
    fn start(&self, space: AddressSpace) -> u64 {
        match space {
            AddressSpace::Virtual => self.vaddr,
            AddressSpace::Physical => self.paddr,
        }
    }
}

/// Which headers an image's Xen notes were read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteSource {
    /// `PT_NOTE` program headers, the usual place.
    Segments,
    /// `SHT_NOTE` section headers, because no note segment held a Xen note.
    Sections,
}

/// One note named "Xen", borrowed from the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XenNote<'a> {
    /// The note type, one of `xen_abi::elfnote::XEN_ELFNOTE_*` or unknown.
    pub note_type: u32,
    /// The descriptor, without its padding.
    pub descriptor: &'a [u8],
    /// File offset of the note's header, for messages.
    pub offset: usize,
}

/// A checked ELF image of a PV guest kernel.
#[derive(Clone, Debug)]
pub struct ElfImage<'a> {
    bytes: &'a [u8],
    entry: u64,
    segments: Vec<LoadSegment, MAX_LOAD_SEGMENTS>,
    program_headers: &'a [ProgramHeader],
    /// Empty when the image has no section header table.
    section_headers: &'a [SectionHeader],
    note_source: Option<NoteSource>,
}

impl<'a> ElfImage<'a> {
    /// Checks the image in `bytes`; see the module documentation for what is checked.
    pub fn parse(bytes: &'a [u8]) -> Result<ElfImage<'a>, ImageError> {
        let (header, _) = FileHeader::ref_from_prefix(bytes).map_err(|_| ImageError::TooShort { len: bytes.len() })?;
        header.check_identity()?;
        let program_headers = header_table::<ProgramHeader>(
            bytes,
            Table::Program,
            header.program_header_offset.get(),
            header.program_header_count.get(),
            header.program_header_size.get(),
        )?;
        let section_headers = header_table::<SectionHeader>(
            bytes,
            Table::Section,
            header.section_header_offset.get(),
            header.section_header_count.get(),
            header.section_header_size.get(),
        )?;
        let segments = load_segments(program_headers, bytes.len())?;
        let mut image = ElfImage {
            bytes,
            entry: header.entry.get(),
            segments,
            program_headers,
            section_headers,
            note_source: None,
        };
        image.note_source = image.find_xen_notes()?;
        Ok(image)
    }

    /// The whole file.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The ELF entry point (`e_entry`).
    pub fn entry(&self) -> u64 {
        self.entry
    }

    /// The loadable segments, in program header order.
    pub fn segments(&self) -> &[LoadSegment] {
        &self.segments
    }

    /// Where the Xen notes come from, or `None` if the image has none.
    pub fn note_source(&self) -> Option<NoteSource> {
        self.note_source
    }

    /// The Xen notes, in file order; notes of other names are skipped.
    pub fn xen_notes(&self) -> impl Iterator<Item = XenNote<'a>> + 'a {
        // Every note was checked by `parse`, so no error is left to stop at.
        self.notes(self.note_source)
            .map_while(Result::ok)
            .filter_map(RawNote::into_xen)
    }

    /// Reads the note segments, then if they hold no Xen note the note sections,
    /// checking every note read.
    fn find_xen_notes(&self) -> Result<Option<NoteSource>, ImageError> {
        for source in [NoteSource::Segments, NoteSource::Sections] {
            let mut xen_notes = 0usize;
            for note in self.notes(Some(source)) {
                if note?.into_xen().is_some() {
                    xen_notes = xen_notes.saturating_add(1);
                }
            }
            if xen_notes > 0 {
                return Ok(Some(source));
            }
        }
        Ok(None)
    }

    /// Every note in the areas of `source`, or none for `None`.
    fn notes(&self, source: Option<NoteSource>) -> impl Iterator<Item = Result<RawNote<'a>, ImageError>> + 'a {
        let bytes = self.bytes;
        let segments = self
            .program_headers
            .iter()
            .enumerate()
            .filter(move |(_, header)| {
                source == Some(NoteSource::Segments) && header.kind.get() == PT_NOTE && header.offset.get() != 0
            })
            .map(move |(index, header)| {
                NoteArea::new(
                    bytes,
                    Table::Program,
                    index,
                    header.offset.get(),
                    header.file_size.get(),
                )
            });
        // Section 0 is the reserved null section.
        let sections = self
            .section_headers
            .iter()
            .enumerate()
            .skip(1)
            .filter(move |(_, header)| source == Some(NoteSource::Sections) && header.kind.get() == SHT_NOTE)
            .map(move |(index, header)| {
                NoteArea::new(bytes, Table::Section, index, header.offset.get(), header.size.get())
            });
        segments.chain(sections).flatten()
    }
}

impl FileHeader {
    /// Checks that this is an x86-64 executable we can read.
    fn check_identity(&self) -> Result<(), ImageError> {
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
fn header_table<T: FromBytes + Immutable + KnownLayout + Unaligned>(
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
fn file_range(offset: u64, size: u64, file_len: usize) -> Option<core::ops::Range<usize>> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(size).ok()?)?;
    (end <= file_len).then_some(start..end)
}

/// Checks every `PT_LOAD` header and keeps the loadable segments.
fn load_segments(
    program_headers: &[ProgramHeader],
    file_len: usize,
) -> Result<Vec<LoadSegment, MAX_LOAD_SEGMENTS>, ImageError> {
    let mut segments: Vec<LoadSegment, MAX_LOAD_SEGMENTS> = Vec::new();
    for (index, header) in program_headers.iter().enumerate() {
        if header.kind.get() != PT_LOAD {
            continue;
        }
        let segment = LoadSegment::from_header(index, header, file_len)?;
        // Xen's loader skips a segment without permissions; so do we.
        if segment.flags.is_empty() {
            continue;
        }
        segments
            .push(segment)
            .map_err(|_| ImageError::TooManySegments { index })?;
    }
    if segments.is_empty() {
        return Err(ImageError::NoLoadSegment);
    }
    check_disjoint(&segments, AddressSpace::Virtual)?;
    check_disjoint(&segments, AddressSpace::Physical)?;
    check_span(&segments)?;
    Ok(segments)
}

/// Checks that the segments' ranges in `space` are disjoint. Every range end was
/// checked not to wrap.
fn check_disjoint(segments: &[LoadSegment], space: AddressSpace) -> Result<(), ImageError> {
    let mut ranges: Vec<(u64, u64, usize), MAX_LOAD_SEGMENTS> = segments
        .iter()
        .map(|segment| {
            let start = segment.start(space);
            (start, start.saturating_add(segment.mem_size), segment.header_index)
        })
        .collect();
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        if let [(_, first_end, first), (second_start, _, second)] = *pair
            && first_end > second_start
        {
            return Err(ImageError::SegmentsOverlap { space, first, second });
        }
    }
    Ok(())
}

/// Checks that the segments span at most [`MAX_IMAGE_BYTES`] of physical addresses.
fn check_span(segments: &[LoadSegment]) -> Result<(), ImageError> {
    let low = segments.iter().map(|segment| segment.paddr).min().unwrap_or(0);
    let high = segments
        .iter()
        .map(|segment| segment.paddr.saturating_add(segment.mem_size))
        .max()
        .unwrap_or(0);
    let span = high.saturating_sub(low);
    if span > MAX_IMAGE_BYTES {
        return Err(ImageError::ImageTooLarge { span });
    }
    Ok(())
}

/// A note of any name, as found in a note area.
#[derive(Clone, Copy, Debug)]
struct RawNote<'a> {
    /// The name bytes as `namesz` gives them, terminator included.
    name: &'a [u8],
    note_type: u32,
    descriptor: &'a [u8],
    offset: usize,
}

impl<'a> RawNote<'a> {
    /// This note if it is named "Xen" (`namesz` 4, NUL-terminated).
    fn into_xen(self) -> Option<XenNote<'a>> {
        (self.name.split_last() == Some((&0, XEN_ELFNOTE_NAME))).then_some(XenNote {
            note_type: self.note_type,
            descriptor: self.descriptor,
            offset: self.offset,
        })
    }
}

/// Walks the notes of one segment or section.
///
/// Each step consumes at least a note header, so the walk ends; a note cut short
/// yields one error and ends it.
struct NoteArea<'a> {
    rest: &'a [u8],
    /// File offset of `rest`.
    offset: usize,
    /// The area itself lies outside the file.
    error: Option<ImageError>,
}

impl<'a> NoteArea<'a> {
    /// The notes of the area described by header `index` of `table`.
    fn new(bytes: &'a [u8], table: Table, index: usize, offset: u64, size: u64) -> NoteArea<'a> {
        match file_range(offset, size, bytes.len()).and_then(|range| Some((range.start, bytes.get(range)?))) {
            Some((start, rest)) => NoteArea {
                rest,
                offset: start,
                error: None,
            },
            None => NoteArea {
                rest: &[],
                offset: 0,
                error: Some(ImageError::HeaderPointsOutside {
                    table,
                    index,
                    offset,
                    size,
                    file_len: bytes.len(),
                }),
            },
        }
    }

    /// The note at the start of `rest` and the bytes it takes with its padding.
    fn parse_note(&self) -> Result<(RawNote<'a>, usize), ImageError> {
        let truncated = ImageError::TruncatedNote {
            offset: self.offset,
            area_end: self.offset.saturating_add(self.rest.len()),
        };
        let (header, _) = NoteHeader::ref_from_prefix(self.rest).map_err(|_| truncated)?;
        let name_size = usize::try_from(header.name_size.get()).map_err(|_| truncated)?;
        let descriptor_size = usize::try_from(header.descriptor_size.get()).map_err(|_| truncated)?;
        let name_end = NOTE_HEADER_SIZE.checked_add(name_size).ok_or(truncated)?;
        let descriptor_start = NOTE_HEADER_SIZE
            .checked_add(name_size.checked_next_multiple_of(NOTE_ALIGN).ok_or(truncated)?)
            .ok_or(truncated)?;
        let descriptor_end = descriptor_start.checked_add(descriptor_size).ok_or(truncated)?;
        let next = descriptor_start
            .checked_add(descriptor_size.checked_next_multiple_of(NOTE_ALIGN).ok_or(truncated)?)
            .ok_or(truncated)?;
        let name = self.rest.get(NOTE_HEADER_SIZE..name_end).ok_or(truncated)?;
        let descriptor = self.rest.get(descriptor_start..descriptor_end).ok_or(truncated)?;
        let note = RawNote {
            name,
            note_type: header.kind.get(),
            descriptor,
            offset: self.offset,
        };
        Ok((note, next))
    }
}

impl<'a> Iterator for NoteArea<'a> {
    type Item = Result<RawNote<'a>, ImageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.error.take() {
            return Some(Err(error));
        }
        if self.rest.is_empty() {
            return None;
        }
        match self.parse_note() {
            Ok((note, next)) => {
                // The last note's padding may fall past the area's end; the area ends there.
                self.rest = self.rest.get(next..).unwrap_or_default();
                self.offset = self.offset.saturating_add(next);
                Some(Ok(note))
            }
            Err(error) => {
                self.rest = &[];
                Some(Err(error))
            }
        }
    }
}

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

/// A small ELF writer for tests, shared with the notes tests.
#[cfg(test)]
pub(crate) mod test_elf {
    use std::vec;
    use std::vec::Vec;

    pub(crate) const PT_LOAD: u32 = super::PT_LOAD;
    pub(crate) const PT_NOTE: u32 = super::PT_NOTE;
    pub(crate) const SHT_NOTE: u32 = super::SHT_NOTE;
    pub(crate) const SHT_PROGBITS: u32 = 1;
    pub(crate) const R: u32 = 4;
    pub(crate) const RW: u32 = 6;
    pub(crate) const RX: u32 = 5;

    /// Where our example guest is linked.
    pub(crate) const KERNEL_BASE: u64 = 0xFFFF_FFFF_8000_0000;

    /// File offsets of the header fields tests corrupt.
    pub(crate) mod field {
        pub(crate) const CLASS: usize = 4;
        pub(crate) const DATA: usize = 5;
        pub(crate) const VERSION: usize = 6;
        pub(crate) const TYPE: usize = 16;
        pub(crate) const MACHINE: usize = 18;
        pub(crate) const ENTRY: usize = 24;
        pub(crate) const PHOFF: usize = 32;
        pub(crate) const SHOFF: usize = 40;
        pub(crate) const PHENTSIZE: usize = 54;
        pub(crate) const PHNUM: usize = 56;
        pub(crate) const SHENTSIZE: usize = 58;
        pub(crate) const SHNUM: usize = 60;
        /// Offsets inside a program header.
        pub(crate) const P_TYPE: usize = 0;
        pub(crate) const P_FLAGS: usize = 4;
        pub(crate) const P_OFFSET: usize = 8;
        pub(crate) const P_VADDR: usize = 16;
        pub(crate) const P_PADDR: usize = 24;
        pub(crate) const P_FILESZ: usize = 32;
        pub(crate) const P_MEMSZ: usize = 40;
        /// Offsets inside a section header.
        pub(crate) const SH_OFFSET: usize = 24;
        pub(crate) const SH_SIZE: usize = 32;
    }

    /// A segment to write: its bytes go to the file, `mem_size` may exceed them.
    #[derive(Clone, Debug)]
    pub(crate) struct Segment {
        pub(crate) kind: u32,
        pub(crate) flags: u32,
        pub(crate) vaddr: u64,
        pub(crate) paddr: u64,
        pub(crate) data: Vec<u8>,
        pub(crate) mem_size: u64,
    }

    /// An ELF64 x86-64 executable under construction. Layout: file header, program
    /// headers, each segment's and section's bytes 8-aligned, then section headers
    /// (with the null section 0) if there are sections.
    #[derive(Clone, Debug, Default)]
    pub(crate) struct ElfBuilder {
        pub(crate) entry: u64,
        pub(crate) segments: Vec<Segment>,
        pub(crate) sections: Vec<(u32, Vec<u8>)>,
    }

    impl ElfBuilder {
        pub(crate) fn new(entry: u64) -> Self {
            ElfBuilder {
                entry,
                ..Self::default()
            }
        }

        /// Adds a `PT_LOAD` segment with `file_size` bytes of a recognisable pattern.
        pub(crate) fn load(mut self, flags: u32, vaddr: u64, file_size: usize, mem_size: u64) -> Self {
            let data = (0..file_size).map(|i| (i % 251) as u8).collect();
            self.segments.push(Segment {
                kind: PT_LOAD,
                flags,
                vaddr,
                paddr: vaddr,
                data,
                mem_size,
            });
            self
        }

        /// Adds a `PT_NOTE` segment holding `notes`.
        pub(crate) fn note_segment(mut self, notes: Vec<u8>) -> Self {
            let mem_size = notes.len() as u64;
            self.segments.push(Segment {
                kind: PT_NOTE,
                flags: R,
                vaddr: 0,
                paddr: 0,
                data: notes,
                mem_size,
            });
            self
        }

        /// Adds a section of type `kind`.
        pub(crate) fn section(mut self, kind: u32, data: Vec<u8>) -> Self {
            self.sections.push((kind, data));
            self
        }

        pub(crate) fn build(&self) -> Vec<u8> {
            let mut bytes = vec![0u8; 64 + 56 * self.segments.len()];
            let mut segment_offsets = Vec::new();
            for segment in &self.segments {
                align(&mut bytes);
                segment_offsets.push(bytes.len() as u64);
                bytes.extend_from_slice(&segment.data);
            }
            let mut section_offsets = Vec::new();
            for (_, data) in &self.sections {
                align(&mut bytes);
                section_offsets.push(bytes.len() as u64);
                bytes.extend_from_slice(data);
            }
            align(&mut bytes);
            let section_table = bytes.len();
            if !self.sections.is_empty() {
                bytes.resize(section_table + 64 * (self.sections.len() + 1), 0);
            }

            bytes[..4].copy_from_slice(b"\x7fELF");
            bytes[field::CLASS] = 2;
            bytes[field::DATA] = 1;
            bytes[field::VERSION] = 1;
            put16(&mut bytes, field::TYPE, 2);
            put16(&mut bytes, field::MACHINE, 62);
            put32(&mut bytes, 20, 1);
            put64(&mut bytes, field::ENTRY, self.entry);
            put64(&mut bytes, field::PHOFF, 64);
            put16(&mut bytes, 52, 64);
            put16(&mut bytes, field::PHENTSIZE, 56);
            put16(&mut bytes, field::PHNUM, self.segments.len() as u16);
            if !self.sections.is_empty() {
                put64(&mut bytes, field::SHOFF, section_table as u64);
                put16(&mut bytes, field::SHENTSIZE, 64);
                put16(&mut bytes, field::SHNUM, self.sections.len() as u16 + 1);
            }
            for (index, (segment, offset)) in self.segments.iter().zip(segment_offsets).enumerate() {
                let at = phdr(index);
                put32(&mut bytes, at + field::P_TYPE, segment.kind);
                put32(&mut bytes, at + field::P_FLAGS, segment.flags);
                put64(&mut bytes, at + field::P_OFFSET, offset);
                put64(&mut bytes, at + field::P_VADDR, segment.vaddr);
                put64(&mut bytes, at + field::P_PADDR, segment.paddr);
                put64(&mut bytes, at + field::P_FILESZ, segment.data.len() as u64);
                put64(&mut bytes, at + field::P_MEMSZ, segment.mem_size);
                put64(&mut bytes, at + 48, 0x1000);
            }
            for (index, ((kind, data), offset)) in self.sections.iter().zip(section_offsets).enumerate() {
                let at = section_table + 64 * (index + 1);
                put32(&mut bytes, at + 4, *kind);
                put64(&mut bytes, at + field::SH_OFFSET, offset);
                put64(&mut bytes, at + field::SH_SIZE, data.len() as u64);
                put64(&mut bytes, at + 48, 4);
            }
            bytes
        }
    }

    /// File offset of program header `index` in a built image.
    pub(crate) fn phdr(index: usize) -> usize {
        64 + 56 * index
    }

    /// File offset of section header `index` in `bytes`.
    pub(crate) fn shdr(bytes: &[u8], index: usize) -> usize {
        get64(bytes, field::SHOFF) as usize + 64 * index
    }

    fn align(bytes: &mut Vec<u8>) {
        bytes.resize(bytes.len().next_multiple_of(8), 0);
    }

    pub(crate) fn put16(bytes: &mut [u8], at: usize, value: u16) {
        bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn put32(bytes: &mut [u8], at: usize, value: u32) {
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn put64(bytes: &mut [u8], at: usize, value: u64) {
        bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn get64(bytes: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
    }

    /// One ELF note with its name and descriptor padded to 4 bytes.
    pub(crate) fn note(name: &[u8], kind: u32, descriptor: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(descriptor.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&kind.to_le_bytes());
        for part in [name, descriptor] {
            bytes.extend_from_slice(part);
            bytes.resize(bytes.len().next_multiple_of(4), 0);
        }
        bytes
    }

    /// A Xen note with raw descriptor bytes.
    pub(crate) fn xen(kind: u32, descriptor: &[u8]) -> Vec<u8> {
        note(b"Xen\0", kind, descriptor)
    }

    /// A Xen note holding a NUL-terminated string.
    pub(crate) fn xen_str(kind: u32, value: &str) -> Vec<u8> {
        let mut descriptor = value.as_bytes().to_vec();
        descriptor.push(0);
        xen(kind, &descriptor)
    }

    /// A Xen note holding a 64-bit number.
    pub(crate) fn xen_u64(kind: u32, value: u64) -> Vec<u8> {
        xen(kind, &value.to_le_bytes())
    }

    /// The notes of our example guest, linked at [`KERNEL_BASE`].
    pub(crate) fn our_notes() -> Vec<u8> {
        use xen_abi::elfnote::*;
        [
            xen_str(XEN_ELFNOTE_GUEST_OS, "xen-core-hello"),
            xen_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0"),
            xen_str(XEN_ELFNOTE_LOADER, "generic"),
            xen_u64(XEN_ELFNOTE_VIRT_BASE, KERNEL_BASE),
            xen_u64(XEN_ELFNOTE_PADDR_OFFSET, KERNEL_BASE),
            xen_u64(XEN_ELFNOTE_ENTRY, KERNEL_BASE),
            xen_u64(XEN_ELFNOTE_HYPERCALL_PAGE, KERNEL_BASE + 0x1000),
        ]
        .concat()
    }

    /// An image shaped like our example guest with the given notes: text with the
    /// hypercall page, read-only data, data with bss, and a `PT_NOTE` segment.
    pub(crate) fn ours_with(notes: Vec<u8>) -> ElfBuilder {
        ElfBuilder::new(KERNEL_BASE)
            .load(RX, KERNEL_BASE, 0x2000, 0x2000)
            .load(R, KERNEL_BASE + 0x2000, 0x40, 0x40)
            .load(RW, KERNEL_BASE + 0x3000, 0x10, 0x2000)
            .note_segment(notes)
    }

    /// Our example guest's shape.
    pub(crate) fn ours() -> ElfBuilder {
        ours_with(our_notes())
    }

    /// The notes of Mini-OS: no ENTRY, VIRT_BASE or PADDR_OFFSET.
    pub(crate) fn mini_os_notes() -> Vec<u8> {
        use xen_abi::elfnote::*;
        [
            xen_str(XEN_ELFNOTE_GUEST_OS, "Mini-OS"),
            xen_str(XEN_ELFNOTE_LOADER, "generic"),
            xen_u64(XEN_ELFNOTE_HYPERCALL_PAGE, 0x2000),
            xen_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0"),
        ]
        .concat()
    }

    /// Mini-OS's shape: linked at 0, entry 0, no `PT_NOTE`, the notes in an
    /// `SHT_NOTE` section outside every segment, among other sections.
    pub(crate) fn mini_os_with(notes: Vec<u8>) -> ElfBuilder {
        ElfBuilder::new(0)
            .load(RX, 0, 0x3000, 0x3000)
            .load(RW, 0x3000, 0x100, 0x1000)
            .section(SHT_PROGBITS, vec![0xcc; 16])
            .section(SHT_NOTE, notes)
    }

    /// Mini-OS's shape with its notes.
    pub(crate) fn mini_os() -> ElfBuilder {
        mini_os_with(mini_os_notes())
    }

    /// Where our example guest's build puts it, if it has been built.
    pub(crate) fn example_guest() -> Option<Vec<u8>> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/bare-metal/x86_64-unknown-none/release/hello"
        );
        match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(error) => {
                std::eprintln!("skipping: example guest {path} not readable ({error}); build it with cargo xtask");
                None
            }
        }
    }

    /// `readelf` run on the example guest, or `None` if the host has none.
    pub(crate) fn readelf(args: &[&str]) -> Option<std::string::String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/bare-metal/x86_64-unknown-none/release/hello"
        );
        match std::process::Command::new("readelf").args(args).arg(path).output() {
            Ok(output) if output.status.success() => Some(std::string::String::from_utf8(output.stdout).unwrap()),
            Ok(output) => panic!("readelf {args:?} failed: {}", output.status),
            Err(error) => {
                std::eprintln!("skipping the readelf comparison: {error}");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_elf::*;
    use super::*;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec;
    use std::vec::Vec as StdVec;
    use xen_abi::elfnote::{XEN_ELFNOTE_GUEST_OS, XEN_ELFNOTE_XEN_VERSION};

    /// The outcome of parsing, comparable.
    fn checked(bytes: &[u8]) -> Result<(), ImageError> {
        ElfImage::parse(bytes).map(|_| ())
    }

    fn notes_of<'a>(image: &ElfImage<'a>) -> StdVec<(u32, &'a [u8])> {
        image
            .xen_notes()
            .map(|note| (note.note_type, note.descriptor))
            .collect()
    }

    #[test]
    fn an_image_like_ours_parses_with_its_segments_and_notes() {
        let bytes = ours().build();
        let image = ElfImage::parse(&bytes).unwrap();
        assert_eq!(image.entry(), KERNEL_BASE);
        let segments = image.segments();
        assert_eq!(segments.len(), 3);
        assert_eq!(segments[0].vaddr, KERNEL_BASE);
        assert_eq!(segments[0].flags, SegmentFlags::R | SegmentFlags::X);
        assert_eq!(segments[2].flags, SegmentFlags::R | SegmentFlags::W);
        assert_eq!((segments[2].file_size, segments[2].mem_size), (0x10, 0x2000));
        let data = segments[0].data(&image);
        assert_eq!(data.len(), 0x2000);
        assert_eq!(&data[..3], &[0, 1, 2]);
        assert_eq!(image.note_source(), Some(NoteSource::Segments));
        let notes = notes_of(&image);
        assert_eq!(notes.len(), 7);
        assert_eq!(notes[0], (XEN_ELFNOTE_GUEST_OS, &b"xen-core-hello\0"[..]));
    }

    #[test]
    fn a_mini_os_image_reads_its_notes_from_the_note_section() {
        let bytes = mini_os().build();
        let image = ElfImage::parse(&bytes).unwrap();
        assert_eq!(image.entry(), 0);
        assert_eq!(image.segments()[0].vaddr, 0);
        assert_eq!(image.note_source(), Some(NoteSource::Sections));
        let notes = notes_of(&image);
        assert_eq!(notes.len(), 4);
        assert_eq!(notes[3], (XEN_ELFNOTE_XEN_VERSION, &b"xen-3.0\0"[..]));
    }

    #[test]
    fn sections_are_read_only_when_no_note_segment_holds_a_xen_note() {
        // A build-id note segment is not enough to skip the sections.
        let build_id = note(b"GNU\0", 3, &[0xab; 20]);
        let builder = mini_os().note_segment(build_id.clone());
        let bytes = builder.build();
        let image = ElfImage::parse(&bytes).unwrap();
        assert_eq!(image.note_source(), Some(NoteSource::Sections));
        assert_eq!(notes_of(&image).len(), 4);

        // With Xen notes in a segment, the sections are not read, even broken ones.
        let mut builder = builder.note_segment(xen_str(XEN_ELFNOTE_GUEST_OS, "seg"));
        builder.sections[1].1.truncate(5);
        let bytes = builder.build();
        let image = ElfImage::parse(&bytes).unwrap();
        assert_eq!(image.note_source(), Some(NoteSource::Segments));
        assert_eq!(notes_of(&image), [(XEN_ELFNOTE_GUEST_OS, &b"seg\0"[..])]);
    }

    #[test]
    fn a_note_segment_at_file_offset_zero_is_ignored_as_libelf_does() {
        let mut bytes = ours().build();
        put64(&mut bytes, phdr(3) + field::P_OFFSET, 0);
        let image = ElfImage::parse(&bytes).unwrap();
        assert_eq!(image.note_source(), None);
        assert_eq!(image.xen_notes().count(), 0);
    }

    #[test]
    fn notes_of_other_names_are_skipped() {
        let notes = [
            note(b"GNU\0", 1, &[1, 2, 3, 4]),
            note(b"Xen", 6, b"x\0"),
            note(b"Xen\0\0", 6, b"x\0"),
            note(b"", 6, b""),
            xen_str(XEN_ELFNOTE_GUEST_OS, "kept"),
        ]
        .concat();
        let bytes = ours_with(notes).build();
        let image = ElfImage::parse(&bytes).unwrap();
        assert_eq!(notes_of(&image), [(XEN_ELFNOTE_GUEST_OS, &b"kept\0"[..])]);
    }

    #[test]
    fn a_last_note_may_lack_its_padding() {
        let mut notes = xen(XEN_ELFNOTE_GUEST_OS, b"ab\0");
        notes.pop();
        let bytes = ours_with(notes).build();
        let image = ElfImage::parse(&bytes).unwrap();
        assert_eq!(notes_of(&image), [(XEN_ELFNOTE_GUEST_OS, &b"ab\0"[..])]);
    }

    #[test]
    fn a_segment_without_permissions_is_not_loaded() {
        let mut bytes = ours().build();
        put32(&mut bytes, phdr(1) + field::P_FLAGS, 0);
        let image = ElfImage::parse(&bytes).unwrap();
        let indices: StdVec<usize> = image.segments().iter().map(|s| s.header_index).collect();
        assert_eq!(indices, [0, 2]);
    }

    #[test]
    fn truncated_headers_are_refused() {
        let bytes = ours().build();
        for len in [0, 1, 4, 63] {
            assert_eq!(checked(&bytes[..len]), Err(ImageError::TooShort { len }), "{len}");
        }
        // The program header table is cut.
        assert!(matches!(
            ElfImage::parse(&bytes[..100]),
            Err(ImageError::TableOutOfBounds {
                table: Table::Program,
                count: 4,
                ..
            })
        ));
    }

    #[test]
    fn the_wrong_kind_of_elf_is_refused() {
        let good = ours().build();
        let cases: [(usize, &[u8], ImageError); 7] = [
            (0, b"\x7fELG", ImageError::NotElf),
            (field::CLASS, &[1], ImageError::WrongClass { class: 1 }),
            (field::DATA, &[2], ImageError::WrongByteOrder { data: 2 }),
            (field::VERSION, &[0], ImageError::WrongVersion { version: 0 }),
            (field::MACHINE, &[3, 0], ImageError::WrongMachine { machine: 3 }),
            (field::TYPE, &[3, 0], ImageError::PositionIndependent),
            (field::TYPE, &[1, 0], ImageError::WrongType { kind: 1 }),
        ];
        for (at, patch, expected) in cases {
            let mut bytes = good.clone();
            bytes[at..at + patch.len()].copy_from_slice(patch);
            assert_eq!(checked(&bytes).unwrap_err(), expected);
        }
    }

    #[test]
    fn header_tables_must_have_elf64_entries_inside_the_file() {
        let good = ours().build();
        let mut bytes = good.clone();
        put16(&mut bytes, field::PHENTSIZE, 32);
        assert_eq!(
            checked(&bytes),
            Err(ImageError::BadEntrySize {
                table: Table::Program,
                size: 32
            })
        );

        let mut bytes = good.clone();
        put64(&mut bytes, field::PHOFF, good.len() as u64);
        assert!(matches!(
            ElfImage::parse(&bytes),
            Err(ImageError::TableOutOfBounds {
                table: Table::Program,
                ..
            })
        ));

        // The offset plus the table's size overflows.
        let mut bytes = good.clone();
        put64(&mut bytes, field::PHOFF, u64::MAX - 8);
        put16(&mut bytes, field::PHNUM, u16::MAX);
        let error = ElfImage::parse(&bytes).unwrap_err();
        assert_eq!(
            error,
            ImageError::TableOutOfBounds {
                table: Table::Program,
                offset: u64::MAX - 8,
                count: u16::MAX,
                file_len: good.len()
            }
        );

        let good = mini_os().build();
        let mut bytes = good.clone();
        put16(&mut bytes, field::SHENTSIZE, 40);
        assert_eq!(
            checked(&bytes),
            Err(ImageError::BadEntrySize {
                table: Table::Section,
                size: 40
            })
        );
        let mut bytes = good.clone();
        put64(&mut bytes, field::SHOFF, u64::MAX);
        assert!(matches!(
            ElfImage::parse(&bytes),
            Err(ImageError::TableOutOfBounds {
                table: Table::Section,
                ..
            })
        ));

        // Without sections, the section table's other fields are not read.
        let mut bytes = ours().build();
        put64(&mut bytes, field::SHOFF, u64::MAX);
        put16(&mut bytes, field::SHENTSIZE, 1);
        assert!(ElfImage::parse(&bytes).is_ok());
    }

    #[test]
    fn segment_bytes_must_lie_inside_the_file() {
        let good = ours().build();
        let len = good.len();
        for (offset, size) in [(len as u64 - 0x10, 0x20), (u64::MAX - 4, 0x10), (0x100, u64::MAX)] {
            let mut bytes = good.clone();
            put64(&mut bytes, phdr(1) + field::P_OFFSET, offset);
            put64(&mut bytes, phdr(1) + field::P_FILESZ, size);
            put64(&mut bytes, phdr(1) + field::P_MEMSZ, size);
            assert_eq!(
                checked(&bytes),
                Err(ImageError::HeaderPointsOutside {
                    table: Table::Program,
                    index: 1,
                    offset,
                    size,
                    file_len: len
                })
            );
        }
        // The same holds for note segments and sections.
        let mut bytes = good.clone();
        put64(&mut bytes, phdr(3) + field::P_FILESZ, len as u64);
        assert!(matches!(
            ElfImage::parse(&bytes),
            Err(ImageError::HeaderPointsOutside {
                table: Table::Program,
                index: 3,
                ..
            })
        ));
        let mut bytes = mini_os().build();
        let at = shdr(&bytes, 2) + field::SH_SIZE;
        put64(&mut bytes, at, u64::MAX);
        assert!(matches!(
            ElfImage::parse(&bytes),
            Err(ImageError::HeaderPointsOutside {
                table: Table::Section,
                index: 2,
                ..
            })
        ));
    }

    #[test]
    fn a_segment_cannot_have_more_file_bytes_than_memory() {
        let mut bytes = ours().build();
        put64(&mut bytes, phdr(0) + field::P_MEMSZ, 0x1000);
        assert_eq!(
            checked(&bytes),
            Err(ImageError::FileLargerThanMemory {
                index: 0,
                file_size: 0x2000,
                mem_size: 0x1000
            })
        );
    }

    #[test]
    fn huge_or_wrapping_segments_are_refused() {
        let mut bytes = ours().build();
        put64(&mut bytes, phdr(2) + field::P_MEMSZ, MAX_IMAGE_BYTES + 1);
        assert_eq!(
            checked(&bytes),
            Err(ImageError::SegmentTooLarge {
                index: 2,
                mem_size: MAX_IMAGE_BYTES + 1
            })
        );
        let mut bytes = ours().build();
        put64(&mut bytes, phdr(2) + field::P_MEMSZ, u64::MAX);
        assert!(matches!(
            ElfImage::parse(&bytes),
            Err(ImageError::SegmentTooLarge { .. })
        ));

        let mut bytes = ours().build();
        put64(&mut bytes, phdr(2) + field::P_VADDR, u64::MAX - 0xfff);
        assert_eq!(
            checked(&bytes),
            Err(ImageError::AddressOverflow {
                index: 2,
                space: AddressSpace::Virtual,
                start: u64::MAX - 0xfff,
                size: 0x2000
            })
        );
        let mut bytes = ours().build();
        put64(&mut bytes, phdr(2) + field::P_PADDR, u64::MAX);
        assert!(matches!(
            ElfImage::parse(&bytes),
            Err(ImageError::AddressOverflow {
                space: AddressSpace::Physical,
                ..
            })
        ));

        // Segments far apart span too much even if each is small.
        let bytes = ElfBuilder::new(0)
            .load(RX, 0, 0x10, 0x1000)
            .load(RW, MAX_IMAGE_BYTES, 0x10, 0x1000)
            .build();
        assert_eq!(
            checked(&bytes),
            Err(ImageError::ImageTooLarge {
                span: MAX_IMAGE_BYTES + 0x1000
            })
        );
    }

    #[test]
    fn only_the_physical_span_is_bounded() {
        // Linux's zero-based per-CPU segment: linked at 0, loaded after the data.
        let mut builder = ElfBuilder::new(KERNEL_BASE + 0x100_0000)
            .load(RX, KERNEL_BASE + 0x100_0000, 0x100, 0x10_0000)
            .load(RW, 0, 0x100, 0x2_0000)
            .load(RW, KERNEL_BASE + 0x112_0000, 0x100, 0x1000);
        builder.segments[0].paddr = 0x100_0000;
        builder.segments[1].paddr = 0x110_0000;
        builder.segments[2].paddr = 0x112_0000;
        let bytes = builder.build();
        let image = ElfImage::parse(&bytes).unwrap();
        assert_eq!(image.segments()[1].vaddr, 0);
    }

    #[test]
    fn overlapping_segments_are_refused_in_either_address_space() {
        let mut bytes = ours().build();
        // Segment 2 moved onto the end of segment 0.
        put64(&mut bytes, phdr(2) + field::P_VADDR, KERNEL_BASE + 0x1fff);
        assert_eq!(
            checked(&bytes),
            Err(ImageError::SegmentsOverlap {
                space: AddressSpace::Virtual,
                first: 0,
                second: 2
            })
        );
        let mut bytes = ours().build();
        put64(&mut bytes, phdr(0) + field::P_PADDR, KERNEL_BASE + 0x2010);
        assert_eq!(
            checked(&bytes),
            Err(ImageError::SegmentsOverlap {
                space: AddressSpace::Physical,
                first: 1,
                second: 0
            })
        );
        // Touching is not overlapping, and empty segments overlap nothing.
        let bytes = ElfBuilder::new(0)
            .load(RX, 0x1000, 0, 0)
            .load(RX, 0, 0x10, 0x1000)
            .load(RW, 0x1000, 0x10, 0x1000)
            .load(RW, 0x1000, 0, 0)
            .build();
        assert!(ElfImage::parse(&bytes).is_ok());
    }

    #[test]
    fn the_number_of_loadable_segments_is_bounded_and_not_zero() {
        let bytes = ElfBuilder::new(0).note_segment(our_notes()).build();
        assert_eq!(checked(&bytes), Err(ImageError::NoLoadSegment));

        let mut builder = ElfBuilder::new(0);
        for index in 0..MAX_LOAD_SEGMENTS as u64 {
            builder = builder.load(RX, index * 0x1000, 0x10, 0x1000);
        }
        assert_eq!(
            ElfImage::parse(&builder.build()).unwrap().segments().len(),
            MAX_LOAD_SEGMENTS
        );
        let bytes = builder.load(RW, 0x100_000, 0, 0x1000).build();
        assert_eq!(
            checked(&bytes),
            Err(ImageError::TooManySegments {
                index: MAX_LOAD_SEGMENTS
            })
        );
    }

    #[test]
    fn truncated_notes_are_refused() {
        let full = xen_str(XEN_ELFNOTE_GUEST_OS, "a-guest");
        // Cut inside the header, the name and the descriptor.
        for keep in [4, 13, 17, 20] {
            let bytes = ours_with(full[..keep].to_vec()).build();
            let error = ElfImage::parse(&bytes).unwrap_err();
            assert!(matches!(error, ImageError::TruncatedNote { .. }), "{keep}: {error}");
        }
        // A descriptor size past the end of the area, and one that overflows.
        for size in [0x100, u32::MAX] {
            let mut notes = full.clone();
            notes[4..8].copy_from_slice(&size.to_le_bytes());
            let bytes = ours_with(notes).build();
            let image = checked(&bytes);
            let offset = get64(&bytes, phdr(3) + field::P_OFFSET) as usize;
            assert_eq!(
                image,
                Err(ImageError::TruncatedNote {
                    offset,
                    area_end: offset + full.len()
                })
            );
        }
        // A good note followed by a cut one is refused too.
        let notes = [full.clone(), full[..6].to_vec()].concat();
        assert!(matches!(
            ElfImage::parse(&ours_with(notes).build()),
            Err(ImageError::TruncatedNote { .. })
        ));
        // And in a section.
        let bytes = mini_os_with(full[..20].to_vec()).build();
        assert!(matches!(ElfImage::parse(&bytes), Err(ImageError::TruncatedNote { .. })));
    }

    #[test]
    fn errors_read_as_one_line() {
        let error = ImageError::HeaderPointsOutside {
            table: Table::Program,
            index: 3,
            offset: 0x5000,
            size: 0x100,
            file_len: 0x4000,
        };
        assert_eq!(
            error.to_string(),
            "guest image: program header 3 points past the end of the file (offset 0x5000, 0x100 bytes, \
             file 0x4000 bytes)"
        );
        assert_eq!(
            ImageError::PositionIndependent.to_string(),
            "guest image: position-independent (ET_DYN) images are not supported; a PV kernel must be linked as \
             ET_EXEC"
        );
        assert_eq!(
            ImageError::SegmentsOverlap {
                space: AddressSpace::Virtual,
                first: 1,
                second: 2
            }
            .to_string(),
            "guest image: the virtual ranges of program headers 1 and 2 overlap"
        );
        let all = [
            ImageError::TooShort { len: 3 },
            ImageError::NotElf,
            ImageError::WrongClass { class: 1 },
            ImageError::WrongByteOrder { data: 2 },
            ImageError::WrongVersion { version: 0 },
            ImageError::WrongMachine { machine: 3 },
            ImageError::WrongType { kind: 1 },
            ImageError::BadEntrySize {
                table: Table::Section,
                size: 1,
            },
            ImageError::TableOutOfBounds {
                table: Table::Section,
                offset: 1,
                count: 2,
                file_len: 3,
            },
            ImageError::FileLargerThanMemory {
                index: 0,
                file_size: 2,
                mem_size: 1,
            },
            ImageError::SegmentTooLarge { index: 0, mem_size: 1 },
            ImageError::AddressOverflow {
                index: 0,
                space: AddressSpace::Physical,
                start: 1,
                size: 2,
            },
            ImageError::TooManySegments { index: 17 },
            ImageError::ImageTooLarge { span: 1 },
            ImageError::NoLoadSegment,
            ImageError::TruncatedNote { offset: 1, area_end: 2 },
        ];
        for error in all {
            let line = error.to_string();
            assert!(line.starts_with("guest image: ") && !line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn the_example_guest_parses_as_readelf_sees_it() {
        let Some(bytes) = example_guest() else {
            return;
        };
        let image = ElfImage::parse(&bytes).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(image.note_source(), Some(NoteSource::Segments));
        let Some(headers) = readelf(&["-lW"]) else {
            return;
        };
        // `LOAD  offset vaddr paddr filesz memsz flags... align`
        let loads: StdVec<StdVec<&str>> = headers
            .lines()
            .filter(|line| line.trim_start().starts_with("LOAD"))
            .map(|line| line.split_whitespace().collect())
            .collect();
        assert_eq!(loads.len(), image.segments().len());
        for (fields, segment) in loads.iter().zip(image.segments()) {
            let number = |index: usize| u64::from_str_radix(fields[index].trim_start_matches("0x"), 16).unwrap();
            assert_eq!(number(1), segment.file_offset as u64);
            assert_eq!(number(2), segment.vaddr);
            assert_eq!(number(3), segment.paddr);
            assert_eq!(number(4), segment.file_size as u64);
            assert_eq!(number(5), segment.mem_size);
        }
    }

    /// Checks what every accepted image promises.
    fn check_accepted(bytes: &[u8]) {
        let Ok(image) = ElfImage::parse(bytes) else {
            return;
        };
        let segments = image.segments();
        assert!(!segments.is_empty() && segments.len() <= MAX_LOAD_SEGMENTS);
        for segment in segments {
            assert_eq!(segment.data(&image).len(), segment.file_size);
            assert!(segment.file_size as u64 <= segment.mem_size);
            assert!(segment.vaddr.checked_add(segment.mem_size).is_some());
            assert!(segment.paddr.checked_add(segment.mem_size).is_some());
        }
        for note in image.xen_notes() {
            let start = note.descriptor.as_ptr() as usize - bytes.as_ptr() as usize;
            assert!(start + note.descriptor.len() <= bytes.len());
            assert!(note.offset < bytes.len());
        }
        // Reading the notes again gives the same notes.
        assert_eq!(image.xen_notes().count(), image.xen_notes().count());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            check_accepted(&bytes);
        }

        #[test]
        fn arbitrary_bytes_behind_a_valid_header_never_panic(
            tail in proptest::collection::vec(any::<u8>(), 0..2048),
            phnum in 0u16..8,
            shnum in 0u16..8,
        ) {
            let mut bytes = ours().build()[..64].to_vec();
            put16(&mut bytes, field::PHNUM, phnum);
            put16(&mut bytes, field::SHNUM, shnum);
            put64(&mut bytes, field::SHOFF, 64 + 56 * u64::from(phnum));
            put16(&mut bytes, field::SHENTSIZE, 64);
            bytes.extend_from_slice(&tail);
            check_accepted(&bytes);
        }

        #[test]
        fn mutated_images_never_panic(
            mini in any::<bool>(),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<bool>()), 1..12),
            keep in any::<usize>(),
        ) {
            let mut bytes = if mini { mini_os().build() } else { ours().build() };
            let len = bytes.len();
            for (index, value, in_headers) in flips {
                // Half of the changes hit the headers and notes, which decide the most.
                let limit = if in_headers { len.min(0x200) } else { len };
                bytes[index % limit] = value;
            }
            check_accepted(&bytes);
            check_accepted(&bytes[..keep % (len + 1)]);
        }

        #[test]
        fn random_note_streams_never_panic(
            notes in proptest::collection::vec(
                (any::<u32>(), 0u32..24, proptest::collection::vec(any::<u8>(), 0..24), any::<bool>()),
                0..6,
            ),
        ) {
            let mut stream = StdVec::new();
            for (name_size, kind, descriptor, xen_name) in notes {
                let mut bytes = if xen_name { xen(kind, &descriptor) } else { note(b"ab", kind, &descriptor) };
                if name_size % 4 == 0 {
                    bytes[..4].copy_from_slice(&(name_size / 4).to_le_bytes());
                }
                stream.extend_from_slice(&bytes);
            }
            check_accepted(&ours_with(stream.clone()).build());
            check_accepted(&mini_os_with(stream).build());
        }
    }

    #[test]
    fn empty_note_areas_hold_no_notes() {
        let bytes = ours_with(vec![]).build();
        let image = ElfImage::parse(&bytes).unwrap();
        assert_eq!(image.note_source(), None);
    }
}
