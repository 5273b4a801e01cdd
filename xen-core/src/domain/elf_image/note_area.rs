//! The notes of one note segment or section: walked, each checked whole, and the
//! ones named "Xen" kept for the domain builder.

use crate::domain::elf_image::elf_headers::{NOTE_ALIGN, NOTE_HEADER_SIZE, NoteHeader, file_range};
use crate::domain::elf_image::image_error::{ImageError, Table};
use xen_abi::elfnote::XEN_ELFNOTE_NAME;
use zerocopy::FromBytes;

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

/// A note of any name, as found in a note area.
#[derive(Clone, Copy, Debug)]
pub(super) struct RawNote<'a> {
    /// The name bytes as `namesz` gives them, terminator included.
    name: &'a [u8],
    note_type: u32,
    descriptor: &'a [u8],
    offset: usize,
}

impl<'a> RawNote<'a> {
    /// This note if it is named "Xen" (`namesz` 4, NUL-terminated).
    pub(super) fn into_xen(self) -> Option<XenNote<'a>> {
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
pub(super) struct NoteArea<'a> {
    rest: &'a [u8],
    /// File offset of `rest`.
    offset: usize,
    /// The area itself lies outside the file.
    error: Option<ImageError>,
}

impl<'a> NoteArea<'a> {
    /// The notes of the area described by header `index` of `table`.
    pub(super) fn new(bytes: &'a [u8], table: Table, index: usize, offset: u64, size: u64) -> NoteArea<'a> {
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
