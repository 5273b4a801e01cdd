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
//!
//! The ELF64 header layouts are in `elf_headers`, reading a header table in
//! `header_table`, a segment's checks in `load_segment`, the walk over note areas in
//! `note_area`, the bounds on an image's size in `limits`, and the reasons for
//! refusing an image in `image_error`; none of them imports from this file.

use elf_headers::{
    ELF_MAGIC, ELFCLASS64, ELFDATA2LSB, EM_X86_64, ET_DYN, ET_EXEC, EV_CURRENT, FileHeader, PT_NOTE, ProgramHeader,
    SHT_NOTE, SectionHeader,
};
use header_table::header_table;
use heapless::Vec;
use load_segment::load_segments;
use note_area::{NoteArea, RawNote};
use zerocopy::FromBytes;

mod elf_headers;
mod header_table;
mod image_error;
mod limits;
mod load_segment;
mod note_area;

pub use image_error::{AddressSpace, ImageError, Table};
pub use limits::{MAX_IMAGE_BYTES, MAX_LOAD_SEGMENTS};
pub use load_segment::{LoadSegment, SegmentFlags};
pub use note_area::XenNote;

/// Which headers an image's Xen notes were read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteSource {
    /// `PT_NOTE` program headers, the usual place.
    Segments,
    /// `SHT_NOTE` section headers, because no note segment held a Xen note.
    Sections,
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
        check_identity(header)?;
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

// Here rather than in `load_segment.rs`, which would otherwise import `ElfImage`
// from this file while this file imports `LoadSegment` from it.
impl LoadSegment {
    /// The bytes to copy from `image`: empty if this segment does not come from it.
    pub fn data<'a>(&self, image: &ElfImage<'a>) -> &'a [u8] {
        let end = self.file_offset.saturating_add(self.file_size);
        image.bytes.get(self.file_offset..end).unwrap_or_default()
    }
}

/// Checks that `header` is the file header of an x86-64 executable we can read.
fn check_identity(header: &FileHeader) -> Result<(), ImageError> {
    let [m0, m1, m2, m3, class, data, version, ..] = header.ident;
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
    let machine = header.machine.get();
    if machine != EM_X86_64 {
        return Err(ImageError::WrongMachine { machine });
    }
    match header.kind.get() {
        ET_EXEC => Ok(()),
        ET_DYN => Err(ImageError::PositionIndependent),
        kind => Err(ImageError::WrongType { kind }),
    }
}

#[cfg(test)]
pub(crate) mod test_elf;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod refusal_tests;
#[cfg(test)]
mod tests;
