//! Images the parser refuses, each with the error that says why.

use super::test_elf::*;
use super::*;
use std::string::ToString;
use xen_abi::elfnote::XEN_ELFNOTE_GUEST_OS;

/// The outcome of parsing, comparable.
fn checked(bytes: &[u8]) -> Result<(), ImageError> {
    ElfImage::parse(bytes).map(|_| ())
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
