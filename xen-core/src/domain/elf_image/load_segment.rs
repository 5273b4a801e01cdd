//! A loadable (`PT_LOAD`) segment: its permissions, its checks against the file,
//! and the checks of all segments together (disjoint, a bounded physical span).

use crate::domain::elf_image::elf_headers::{PT_LOAD, ProgramHeader, file_range};
use crate::domain::elf_image::image_error::{AddressSpace, ImageError, Table};
use crate::domain::elf_image::limits::{MAX_IMAGE_BYTES, MAX_LOAD_SEGMENTS};
use bitflags::bitflags;
use heapless::Vec;

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

// `LoadSegment::data`, which reads the segment's bytes out of an `ElfImage`, is
// in `elf_image.rs`, so that this file does not import the image that holds the
// segments.
impl LoadSegment {
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

/// Checks every `PT_LOAD` header and keeps the loadable segments.
pub(super) fn load_segments(
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
