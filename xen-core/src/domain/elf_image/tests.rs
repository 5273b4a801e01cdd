//! Images the parser accepts: our example guest's shape, Mini-OS's, and what libelf
//! reads or skips in them.

use super::test_elf::*;
use super::*;
use std::vec;
use std::vec::Vec as StdVec;
use xen_abi::elfnote::{XEN_ELFNOTE_GUEST_OS, XEN_ELFNOTE_XEN_VERSION};

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

#[test]
fn empty_note_areas_hold_no_notes() {
    let bytes = ours_with(vec![]).build();
    let image = ElfImage::parse(&bytes).unwrap();
    assert_eq!(image.note_source(), None);
}
