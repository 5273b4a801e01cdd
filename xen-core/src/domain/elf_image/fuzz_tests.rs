//! Arbitrary and mutated images never make the parser panic, and what it accepts
//! keeps its promises.

use super::test_elf::*;
use super::*;
use proptest::prelude::*;
use std::vec::Vec as StdVec;

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
