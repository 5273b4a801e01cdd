//! Kernel files as Linux's build and Debian ship them, compressed here by
//! the host's own gzip and xz (with Linux's options), and hostile ones.

extern crate std;

use super::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::vec::Vec;

/// Something shaped like a kernel: an ELF magic, then bytes that compress
/// but not to nothing.
fn vmlinux() -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.extend((0..300_000u32).map(|i| (i.wrapping_mul(i) >> 7) as u8 ^ (i % 251) as u8));
    bytes
}

/// `data` through `program` with `args`.
fn compress(program: &str, args: &[&str], data: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{program}: {error}"));
    let mut stdin = child.stdin.take().unwrap();
    let input = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(output.status.success(), "{program} failed");
    output.stdout
}

/// As Linux's build compresses with xz: x86 BCJ, CRC32 check, and the
/// uncompressed size appended.
fn linux_xz(data: &[u8]) -> Vec<u8> {
    let mut bytes = compress(
        "xz",
        &["--format=xz", "--check=crc32", "--x86", "--lzma2=dict=1MiB"],
        data,
    );
    bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
    bytes
}

/// A bzImage around `payload`: boot sector, 4 setup sectors, protocol
/// 2.15, the payload after 0x40 bytes of the protected-mode code.
fn bzimage(payload: &[u8]) -> Vec<u8> {
    let mut bytes = std::vec![0u8; 5 * 512 + 0x40];
    bytes[0x1f1] = 4;
    bytes[0x1fe..0x200].copy_from_slice(&0xaa55u16.to_le_bytes());
    bytes[0x202..0x206].copy_from_slice(b"HdrS");
    bytes[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
    bytes[0x248..0x24c].copy_from_slice(&0x40u32.to_le_bytes());
    bytes[0x24c..0x250].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(&[0xcc; 100]);
    bytes
}

fn unpack(file: &[u8]) -> Result<Vec<u8>, KernelImageError> {
    let KernelFile::Compressed(kernel) = KernelFile::recognise(file)? else {
        panic!("not recognised as compressed");
    };
    let mut out = std::vec![0u8; kernel.uncompressed_size()?];
    let mut dictionary = std::vec![0u8; kernel.dictionary_size()?];
    let written = kernel.decompress(&mut out, &mut dictionary)?;
    out.truncate(written);
    Ok(out)
}

#[test]
fn an_elf_is_taken_as_it_is() {
    let elf = vmlinux();
    assert_eq!(KernelFile::recognise(&elf), Ok(KernelFile::Plain(&elf)));
}

#[test]
fn a_bzimage_with_an_uncompressed_elf_payload_is_that_elf_and_garbage_is_refused() {
    let elf = vmlinux();
    let file = bzimage(&elf);
    let KernelFile::Plain(payload) = KernelFile::recognise(&file).unwrap() else {
        panic!("an ELF payload needs no unpacking")
    };
    assert_eq!(payload, &elf[..]);
    assert_eq!(
        KernelFile::recognise(&bzimage(b"not a kernel at all")),
        Err(KernelImageError::UnknownPayload)
    );
}

#[test]
fn a_bzimage_with_a_gzip_payload_gives_back_its_elf() {
    let elf = vmlinux();
    let file = bzimage(&compress("gzip", &["-9", "-n"], &elf));
    let KernelFile::Compressed(kernel) = KernelFile::recognise(&file).unwrap() else {
        panic!()
    };
    assert_eq!((kernel.method, kernel.from_bzimage), (Compression::Gzip, true));
    assert_eq!(unpack(&file).unwrap(), elf);
}

#[test]
fn a_bzimage_with_an_xz_payload_as_debian_ships_gives_back_its_elf() {
    let elf = vmlinux();
    assert_eq!(unpack(&bzimage(&linux_xz(&elf))).unwrap(), elf);
}

#[test]
fn the_xz_dictionary_size_is_read_from_the_stream() {
    let elf = vmlinux();
    for (option, size) in [("dict=1MiB", 1 << 20), ("dict=3MiB", 3 << 20), ("dict=32MiB", 32 << 20)] {
        let mut bytes = compress(
            "xz",
            &["--check=crc32", "--x86", &std::format!("--lzma2={option}")],
            &elf,
        );
        bytes.extend_from_slice(&(elf.len() as u32).to_le_bytes());
        let KernelFile::Compressed(kernel) = KernelFile::recognise(&bytes).unwrap() else {
            panic!()
        };
        assert_eq!(kernel.dictionary_size(), Ok(size), "{option}");
        assert_eq!(kernel.scratch_needed(), Ok(elf.len() + size));
    }
    // gzip needs none.
    let gzipped = compress("gzip", &["-c"], &elf);
    let KernelFile::Compressed(gzip) = KernelFile::recognise(&gzipped).unwrap() else {
        panic!()
    };
    assert_eq!(gzip.dictionary_size(), Ok(0));
}

#[test]
fn a_compressed_elf_without_a_bzimage_is_taken_too() {
    let elf = vmlinux();
    let file = compress("gzip", &["-c"], &elf);
    let KernelFile::Compressed(kernel) = KernelFile::recognise(&file).unwrap() else {
        panic!()
    };
    assert!(!kernel.from_bzimage);
    assert_eq!(unpack(&file).unwrap(), elf);
    assert_eq!(unpack(&linux_xz(&elf)).unwrap(), elf);
}

#[test]
fn hostile_and_unsupported_files_are_refused_without_overrunning_anything() {
    let elf = vmlinux();
    let good = bzimage(&linux_xz(&elf));
    // A payload reaching past the file.
    let mut file = good.clone();
    file[0x24c..0x250].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(KernelFile::recognise(&file), Err(KernelImageError::PayloadOutsideFile));
    // A boot protocol without payload fields.
    let mut file = good.clone();
    file[0x206..0x208].copy_from_slice(&0x0206u16.to_le_bytes());
    assert_eq!(
        KernelFile::recognise(&file),
        Err(KernelImageError::OldBootProtocol(0x0206))
    );
    // A size claim beyond the buffer given.
    let KernelFile::Compressed(kernel) = KernelFile::recognise(&good).unwrap() else {
        panic!()
    };
    let mut small = std::vec![0u8; 1000];
    assert_eq!(
        kernel.decompress(&mut small, &mut [0u8; 4096]),
        Err(KernelImageError::BufferTooSmall { needed: elf.len() })
    );
    // A size trailer that lies low: the output stops there, refused.
    let mut payload = linux_xz(&elf);
    let at = payload.len() - 4;
    payload[at..].copy_from_slice(&1000u32.to_le_bytes());
    assert_eq!(
        unpack(&bzimage(&payload)),
        Err(KernelImageError::Corrupt(Compression::Xz))
    );
    let mut gzip = compress("gzip", &["-c"], &elf);
    let at = gzip.len() - 4;
    gzip[at..].copy_from_slice(&1000u32.to_le_bytes());
    assert_eq!(unpack(&gzip), Err(KernelImageError::Corrupt(Compression::Gzip)));
    // Flipped bytes in the middle, and a cut stream.
    let mut payload = linux_xz(&elf);
    let middle = payload.len() / 2;
    payload[middle] ^= 0xff;
    assert_eq!(
        unpack(&bzimage(&payload)),
        Err(KernelImageError::Corrupt(Compression::Xz))
    );
    let mut cut = linux_xz(&elf);
    cut.drain(cut.len() / 2..cut.len() - 4);
    assert_eq!(unpack(&cut), Err(KernelImageError::Corrupt(Compression::Xz)));
    // zstd is recognised and named, not decompressed.
    let zstd = [0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4, 9, 0, 0, 0];
    assert_eq!(unpack(&zstd), Err(KernelImageError::Unsupported(Compression::Zstd)));
}
