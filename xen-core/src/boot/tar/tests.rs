//! Archives read and refused: headers, checksums, sizes, names, long names and the
//! entries that are skipped.

use super::test_tar::*;
use super::ustar_header::GNU_MAGIC;
use super::*;
use std::format;
use std::string::ToString;

#[test]
fn regular_files_are_kept_with_their_data_and_offsets() {
    let bytes = sample();
    let archive = TarArchive::parse(&bytes).unwrap();
    assert_eq!(names(&archive), ["manifest", "boot/dom0.elf", "empty"]);
    let kernel = archive.file("boot/dom0.elf").unwrap();
    assert_eq!(kernel.data, &[0x7f; 700][..]);
    assert_eq!(kernel.offset, 3 * BLOCK_SIZE + BLOCK_SIZE);
    assert_eq!(&bytes[kernel.offset..kernel.offset + 700], kernel.data);
    assert_eq!(archive.file("empty").unwrap().data, b"");
    assert_eq!(archive.file("boot"), None);
    assert_eq!(archive.file("./boot/dom0.elf"), None);
}

#[test]
fn one_zero_block_ends_the_archive_and_what_follows_is_not_read() {
    let mut bytes = Builder::default().file("a", b"x").bytes;
    bytes.extend_from_slice(&[0; BLOCK_SIZE]);
    assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["a"]);
    bytes.extend_from_slice(b"garbage after the end");
    assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["a"]);
    assert_eq!(TarArchive::parse(&[0; BLOCK_SIZE]).unwrap().files().count(), 0);
}

#[test]
fn a_missing_end_marker_is_truncation() {
    let bytes = Builder::default().file("a", b"x").bytes;
    assert_eq!(TarArchive::parse(&bytes), Err(TarError::Truncated { offset: 1024 }));
    assert_eq!(TarArchive::parse(&[]), Err(TarError::Truncated { offset: 0 }));
}

#[test]
fn a_truncated_header_is_reported_at_its_offset() {
    let bytes = sample();
    assert_eq!(
        TarArchive::parse(&bytes[..BLOCK_SIZE * 2 + 100]),
        Err(TarError::Truncated { offset: BLOCK_SIZE * 2 })
    );
}

#[test]
fn truncated_data_or_padding_is_reported_at_its_header() {
    let bytes = sample();
    for cut in [3 * BLOCK_SIZE + 1, 4 * BLOCK_SIZE + 699, 4 * BLOCK_SIZE + 701] {
        assert_eq!(
            TarArchive::parse(&bytes[..cut]),
            Err(TarError::Truncated { offset: 3 * BLOCK_SIZE }),
            "cut at {cut}"
        );
    }
}

#[test]
fn a_size_pointing_past_the_end_is_truncation() {
    let huge = Builder::default().entry(header("a", 0o77777777777, b'0'), &[]).finish();
    assert_eq!(TarArchive::parse(&huge), Err(TarError::Truncated { offset: 0 }));
}

#[test]
fn a_bad_checksum_is_refused() {
    let mut bytes = sample();
    bytes[2 * BLOCK_SIZE + 10] = b'x';
    assert_eq!(
        TarArchive::parse(&bytes),
        Err(TarError::BadChecksum { offset: 2 * BLOCK_SIZE })
    );
    let mut bytes = sample();
    bytes[148..156].copy_from_slice(b"nonsense");
    assert_eq!(TarArchive::parse(&bytes), Err(TarError::BadChecksum { offset: 0 }));
}

#[test]
fn checksums_are_read_in_every_writers_layout() {
    for layout in ["{:06o}\0 ", "{:07o}\0", "{:06o} \0", " {:06o} ", "{:o}\0\0\0\0\0"] {
        let mut block = header("a", 0, b'0');
        block[148..156].fill(b' ');
        let sum: u64 = block.iter().map(|&byte| u64::from(byte)).sum();
        let text = layout.replace("{:06o}", &format!("{sum:06o}"));
        let text = text.replace("{:07o}", &format!("{sum:07o}"));
        let text = text.replace("{:o}", &format!("{sum:o}"));
        block[148..156].copy_from_slice(&text.as_bytes()[..8]);
        let bytes = Builder::default().entry(block, &[]).finish();
        assert!(TarArchive::parse(&bytes).is_ok(), "layout {layout:?}");
    }
}

#[test]
fn a_signed_checksum_is_accepted() {
    let mut block = header("caf\u{e9}", 0, b'0');
    block[148..156].fill(b' ');
    let sum: i64 = block.iter().map(|&byte| i64::from(byte as i8)).sum();
    block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let bytes = Builder::default().entry(block, &[]).finish();
    assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["caf\u{e9}"]);
}

#[test]
fn bad_magic_is_refused_before_the_checksum_is_read() {
    let mut block = header("a", 0, b'0');
    block[257..265].copy_from_slice(b"ustar\0\0\0");
    assert_eq!(
        TarArchive::parse(&Builder::default().entry(block, &[]).finish()),
        Err(TarError::BadMagic { offset: 0 })
    );
    let not_tar = [0x1f; 2 * BLOCK_SIZE];
    assert_eq!(TarArchive::parse(&not_tar), Err(TarError::BadMagic { offset: 0 }));
}

#[test]
fn sizes_must_be_octal_and_base_256_is_refused() {
    let mut block = header("a", 0, b'0');
    block[124..136].copy_from_slice(b"00000000009\0");
    seal(&mut block);
    let bytes = Builder::default().entry(block, &[]).finish();
    assert_eq!(TarArchive::parse(&bytes), Err(TarError::BadSize { offset: 0 }));
    block[124..136].copy_from_slice(&[0; 12]);
    seal(&mut block);
    let bytes = Builder::default().entry(block, &[]).finish();
    assert_eq!(TarArchive::parse(&bytes), Err(TarError::BadSize { offset: 0 }));
    block[124..136].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    seal(&mut block);
    let bytes = Builder::default().entry(block, &[0]).finish();
    assert_eq!(TarArchive::parse(&bytes), Err(TarError::UnsupportedSize { offset: 0 }));
}

#[test]
fn names_must_be_utf8_and_non_empty() {
    let mut block = header("", 0, b'0');
    block[..3].copy_from_slice(&[b'a', 0xff, b'b']);
    seal(&mut block);
    let bytes = Builder::default().file("ok", b"").entry(block, &[]).finish();
    assert_eq!(TarArchive::parse(&bytes), Err(TarError::BadName { offset: BLOCK_SIZE }));
    for name in ["", "./"] {
        let bytes = Builder::default().file(name, b"").finish();
        assert_eq!(
            TarArchive::parse(&bytes),
            Err(TarError::BadName { offset: 0 }),
            "{name:?}"
        );
    }
}

#[test]
fn a_name_filling_its_whole_field_needs_no_terminator() {
    let name = "n".repeat(100);
    let bytes = Builder::default().file(&name, b"1").finish();
    assert_eq!(TarArchive::parse(&bytes).unwrap().file(&name).unwrap().data, b"1");
}

#[test]
fn posix_prefixes_are_joined_and_gnu_headers_ignore_them() {
    let mut block = header("dom0.elf", 1, b'0');
    block[345..355].copy_from_slice(b"./kernels\0");
    seal(&mut block);
    let bytes = Builder::default().entry(block, b"k").finish();
    let archive = TarArchive::parse(&bytes).unwrap();
    assert_eq!(names(&archive), ["kernels/dom0.elf"]);
    assert_eq!(archive.file("kernels/dom0.elf").unwrap().data, b"k");
    assert_eq!(archive.file("dom0.elf"), None);
    assert_eq!(archive.file("kernelsdom0.elf"), None);

    block[257..265].copy_from_slice(&GNU_MAGIC);
    block[345..355].copy_from_slice(&[0xff; 10]);
    seal(&mut block);
    let bytes = Builder::default().entry(block, b"k").finish();
    assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["dom0.elf"]);
}

#[test]
fn names_display_joined_and_padded_like_strings() {
    let split = TarName::new("dir", "file");
    assert_eq!(format!("[{split}]"), "[dir/file]");
    assert_eq!(format!("[{split:<10}]"), "[dir/file  ]");
    assert_eq!(format!("[{split:>10}]"), "[  dir/file]");
    assert_eq!(format!("[{split:*^11}]"), "[*dir/file**]");
    assert_eq!(format!("[{split:4}]"), "[dir/file]");
    assert_eq!(format!("[{:<6}]", TarName::new("", "ab")), "[ab    ]");
}

#[test]
fn names_split_differently_are_the_same_name() {
    let mut block = header("b/c", 0, b'0');
    block[345..346].copy_from_slice(b"a");
    seal(&mut block);
    let bytes = Builder::default().file("a/b/c", b"").entry(block, &[]).finish();
    assert_eq!(
        TarArchive::parse(&bytes),
        Err(TarError::DuplicateName { offset: BLOCK_SIZE })
    );
}

#[test]
fn gnu_long_names_name_the_next_entry() {
    let long = format!("{}/dom0.elf", "d".repeat(120));
    let record = format!("{long}\0");
    let bytes = Builder::default()
        .entry(header("././@LongLink", record.len(), b'L'), record.as_bytes())
        .file("truncated-name", b"elf")
        .file("short", b"s")
        .finish();
    let archive = TarArchive::parse(&bytes).unwrap();
    assert_eq!(names(&archive), [long.as_str(), "short"]);
    assert_eq!(archive.file(&long).unwrap().data, b"elf");
}

#[test]
fn pax_paths_name_the_next_entry_and_other_records_are_ignored() {
    let records = pax_record("mtime", "1.5") + &pax_record("path", "./long/name") + &pax_record("x", "");
    let global = pax_record("comment", "ignored");
    let bytes = Builder::default()
        .entry(header("PaxHeaders/name", records.len(), b'x'), records.as_bytes())
        .entry(header("PaxHeaders/global", global.len(), b'g'), global.as_bytes())
        .file("name", b"data")
        .finish();
    assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["long/name"]);
}

#[test]
fn a_long_name_for_a_skipped_entry_is_dropped_with_it() {
    let record = "some-directory\0";
    let bytes = Builder::default()
        .entry(header("././@LongLink", record.len(), b'L'), record.as_bytes())
        .entry(header("some-dir", 0, b'5'), &[])
        .file("next", b"")
        .finish();
    assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["next"]);
}

#[test]
fn malformed_or_dangling_extended_headers_are_refused() {
    for records in ["5 a=b", "3 a=b\n", "x a=b\n", "6 ab\n\n", "99 path=a\n", "0 \n"] {
        let bytes = Builder::default()
            .entry(header("pax", records.len(), b'x'), records.as_bytes())
            .file("a", b"")
            .finish();
        assert_eq!(
            TarArchive::parse(&bytes),
            Err(TarError::BadExtendedHeader { offset: 0 }),
            "{records:?}"
        );
    }
    let dangling = Builder::default()
        .entry(header("././@LongLink", 2, b'L'), b"a\0")
        .finish();
    assert_eq!(
        TarArchive::parse(&dangling),
        Err(TarError::BadExtendedHeader { offset: 0 })
    );
    let bad_utf8 = Builder::default().entry(header("L", 2, b'L'), &[0xc3, 0]).finish();
    assert_eq!(TarArchive::parse(&bad_utf8), Err(TarError::BadName { offset: 0 }));
}

#[test]
fn links_devices_and_old_style_directories_are_skipped() {
    let bytes = Builder::default()
        .entry(header("hard", 0, b'1'), &[])
        .entry(header("soft", 0, b'2'), &[])
        .entry(header("fifo", 0, b'6'), &[])
        .entry(header("old-dir/", 0, b'0'), &[])
        .entry(header("contiguous", 1, b'7'), b"c")
        .entry(header("vendor", 3, b'V'), b"abc")
        .finish();
    assert_eq!(names(&TarArchive::parse(&bytes).unwrap()), ["contiguous"]);
}

#[test]
fn duplicate_names_and_too_many_files_are_refused() {
    let bytes = Builder::default().file("a", b"").file("./a", b"").finish();
    assert_eq!(
        TarArchive::parse(&bytes),
        Err(TarError::DuplicateName { offset: BLOCK_SIZE })
    );
    let mut builder = Builder::default();
    for index in 0..MAX_FILES {
        builder = builder.file(&format!("f{index}"), b"");
    }
    let full = builder.finish();
    assert_eq!(TarArchive::parse(&full).unwrap().files().count(), MAX_FILES);
    let mut builder = Builder {
        bytes: full[..full.len() - 2 * BLOCK_SIZE].to_vec(),
    };
    builder = builder.file("one-too-many", b"");
    assert_eq!(
        TarArchive::parse(&builder.finish()),
        Err(TarError::TooManyFiles {
            offset: MAX_FILES * BLOCK_SIZE
        })
    );
}

#[test]
fn errors_read_as_one_line() {
    assert_eq!(
        TarError::BadChecksum { offset: 1024 }.to_string(),
        "tar: bad header checksum at offset 1024"
    );
    assert_eq!(
        TarError::Truncated { offset: 0 }.to_string(),
        "tar: archive cut short at offset 0"
    );
}
