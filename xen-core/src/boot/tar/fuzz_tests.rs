//! Arbitrary, flipped, truncated and random-header archives never make the reader
//! panic, and what it accepts keeps its promises.

use super::test_tar::*;
use super::*;
use proptest::prelude::*;
use std::string::String;
use std::vec::Vec as StdVec;

/// Checks what every accepted archive promises: data borrowed in place, within
/// the limit of files.
fn check_accepted(bytes: &[u8]) {
    if let Ok(archive) = TarArchive::parse(bytes) {
        assert!(archive.files().count() <= MAX_FILES);
        for file in archive.files() {
            let in_place = bytes.get(file.offset..file.offset + file.data.len());
            assert_eq!(in_place.map(<[u8]>::as_ptr), Some(file.data.as_ptr()));
            assert!(!file.name.is_empty());
        }
    }
}

/// An entry of any type with random data, a valid checksum and a size that may lie.
fn any_entry() -> impl Strategy<Value = StdVec<u8>> {
    let typeflag = prop_oneof![Just(b'0'), Just(b'5'), Just(b'x'), Just(b'L'), Just(b'g'), any::<u8>()];
    let data = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..1100),
        "([0-9]{1,3} [a-z]{1,5}=[a-z./]{0,9}\n){0,3}".prop_map(String::into_bytes),
    ];
    (typeflag, data, -600i64..600, "[a-z./]{0,12}").prop_map(|(typeflag, data, lie, name)| {
        let size = (data.len() as i64 + lie).max(0) as usize;
        Builder::default().entry(header(&name, size, typeflag), &data).bytes
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check_accepted(&bytes);
    }

    #[test]
    fn flipped_or_truncated_archives_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        keep in any::<usize>(),
    ) {
        let mut bytes = sample();
        for (index, value) in flips {
            let len = bytes.len();
            bytes[index % len] = value;
        }
        check_accepted(&bytes);
        check_accepted(&bytes[..keep % (bytes.len() + 1)]);
    }

    #[test]
    fn sequences_of_well_formed_headers_never_panic(
        entries in proptest::collection::vec(any_entry(), 0..6),
        end_marker in any::<bool>(),
    ) {
        let mut bytes: StdVec<u8> = entries.concat();
        if end_marker {
            bytes.extend_from_slice(&[0; BLOCK_SIZE]);
        }
        check_accepted(&bytes);
    }
}
