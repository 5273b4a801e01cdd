//! Test support: ustar headers with valid checksums, an archive builder, pax
//! records and a sample archive.

use super::ustar_header::POSIX_MAGIC;
use super::*;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec as StdVec;

/// Writes the octal `value` into `field`, zero-padded and NUL-terminated.
pub(super) fn put_octal(field: &mut [u8], value: u64) {
    let text = format!("{value:0width$o}\0", width = field.len() - 1);
    field.copy_from_slice(text.as_bytes());
}

/// A POSIX ustar header with a valid checksum.
pub(super) fn header(name: &str, size: usize, typeflag: u8) -> [u8; BLOCK_SIZE] {
    let mut block = [0u8; BLOCK_SIZE];
    block[..name.len()].copy_from_slice(name.as_bytes());
    put_octal(&mut block[100..108], 0o644);
    put_octal(&mut block[108..116], 0);
    put_octal(&mut block[116..124], 0);
    put_octal(&mut block[124..136], size as u64);
    put_octal(&mut block[136..148], 0);
    block[156] = typeflag;
    block[257..265].copy_from_slice(&POSIX_MAGIC);
    seal(&mut block);
    block
}

/// Recomputes the checksum after a test edits a header.
pub(super) fn seal(block: &mut [u8; BLOCK_SIZE]) {
    block[148..156].fill(b' ');
    let sum: u64 = block.iter().map(|&byte| u64::from(byte)).sum();
    block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// An archive under construction.
#[derive(Default)]
pub(super) struct Builder {
    pub(super) bytes: StdVec<u8>,
}

impl Builder {
    pub(super) fn entry(mut self, block: [u8; BLOCK_SIZE], data: &[u8]) -> Self {
        self.bytes.extend_from_slice(&block);
        self.bytes.extend_from_slice(data);
        let padding = data.len().next_multiple_of(BLOCK_SIZE) - data.len();
        self.bytes.resize(self.bytes.len() + padding, 0);
        self
    }

    pub(super) fn file(self, name: &str, data: &[u8]) -> Self {
        self.entry(header(name, data.len(), b'0'), data)
    }

    pub(super) fn finish(mut self) -> StdVec<u8> {
        self.bytes.resize(self.bytes.len() + 2 * BLOCK_SIZE, 0);
        self.bytes
    }
}

pub(super) fn pax_record(key: &str, value: &str) -> String {
    // The length counts its own digits, so try the shortest length that fits.
    let body = format!(" {key}={value}\n");
    let mut length = body.len() + 1;
    while length.to_string().len() + body.len() != length {
        length += 1;
    }
    format!("{length}{body}")
}

pub(super) fn names(archive: &TarArchive<'_>) -> StdVec<String> {
    archive.files().map(|file| file.name.to_string()).collect()
}

pub(super) fn sample() -> StdVec<u8> {
    Builder::default()
        .file("manifest", b"xen-core-manifest 1\n")
        .entry(header("boot/", 0, b'5'), &[])
        .file("./boot/dom0.elf", &[0x7f; 700])
        .file("empty", b"")
        .finish()
}
