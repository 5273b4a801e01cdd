//! A small ELF writer for tests: images shaped like our example guest and like
//! Mini-OS, and the notes in them. The notes, builder and hypercall tests use it too.

use std::vec;
use std::vec::Vec;

pub(crate) const PT_LOAD: u32 = super::elf_headers::PT_LOAD;
pub(crate) const PT_NOTE: u32 = super::elf_headers::PT_NOTE;
pub(crate) const SHT_NOTE: u32 = super::elf_headers::SHT_NOTE;
pub(crate) const SHT_PROGBITS: u32 = 1;
pub(crate) const R: u32 = 4;
pub(crate) const RW: u32 = 6;
pub(crate) const RX: u32 = 5;

/// Where our example guest is linked.
pub(crate) const KERNEL_BASE: u64 = 0xFFFF_FFFF_8000_0000;

/// File offsets of the header fields tests corrupt.
pub(crate) mod field {
    pub(crate) const CLASS: usize = 4;
    pub(crate) const DATA: usize = 5;
    pub(crate) const VERSION: usize = 6;
    pub(crate) const TYPE: usize = 16;
    pub(crate) const MACHINE: usize = 18;
    pub(crate) const ENTRY: usize = 24;
    pub(crate) const PHOFF: usize = 32;
    pub(crate) const SHOFF: usize = 40;
    pub(crate) const PHENTSIZE: usize = 54;
    pub(crate) const PHNUM: usize = 56;
    pub(crate) const SHENTSIZE: usize = 58;
    pub(crate) const SHNUM: usize = 60;
    /// Offsets inside a program header.
    pub(crate) const P_TYPE: usize = 0;
    pub(crate) const P_FLAGS: usize = 4;
    pub(crate) const P_OFFSET: usize = 8;
    pub(crate) const P_VADDR: usize = 16;
    pub(crate) const P_PADDR: usize = 24;
    pub(crate) const P_FILESZ: usize = 32;
    pub(crate) const P_MEMSZ: usize = 40;
    /// Offsets inside a section header.
    pub(crate) const SH_OFFSET: usize = 24;
    pub(crate) const SH_SIZE: usize = 32;
}

/// A segment to write: its bytes go to the file, `mem_size` may exceed them.
#[derive(Clone, Debug)]
pub(crate) struct Segment {
    pub(crate) kind: u32,
    pub(crate) flags: u32,
    pub(crate) vaddr: u64,
    pub(crate) paddr: u64,
    pub(crate) data: Vec<u8>,
    pub(crate) mem_size: u64,
}

/// An ELF64 x86-64 executable under construction. Layout: file header, program
/// headers, each segment's and section's bytes 8-aligned, then section headers
/// (with the null section 0) if there are sections.
#[derive(Clone, Debug, Default)]
pub(crate) struct ElfBuilder {
    pub(crate) entry: u64,
    pub(crate) segments: Vec<Segment>,
    pub(crate) sections: Vec<(u32, Vec<u8>)>,
}

impl ElfBuilder {
    pub(crate) fn new(entry: u64) -> Self {
        ElfBuilder {
            entry,
            ..Self::default()
        }
    }

    /// Adds a `PT_LOAD` segment with `file_size` bytes of a recognisable pattern.
    pub(crate) fn load(mut self, flags: u32, vaddr: u64, file_size: usize, mem_size: u64) -> Self {
        let data = (0..file_size).map(|i| (i % 251) as u8).collect();
        self.segments.push(Segment {
            kind: PT_LOAD,
            flags,
            vaddr,
            paddr: vaddr,
            data,
            mem_size,
        });
        self
    }

    /// Adds a `PT_NOTE` segment holding `notes`.
    pub(crate) fn note_segment(mut self, notes: Vec<u8>) -> Self {
        let mem_size = notes.len() as u64;
        self.segments.push(Segment {
            kind: PT_NOTE,
            flags: R,
            vaddr: 0,
            paddr: 0,
            data: notes,
            mem_size,
        });
        self
    }

    /// Adds a section of type `kind`.
    pub(crate) fn section(mut self, kind: u32, data: Vec<u8>) -> Self {
        self.sections.push((kind, data));
        self
    }

    pub(crate) fn build(&self) -> Vec<u8> {
        let mut bytes = vec![0u8; 64 + 56 * self.segments.len()];
        let mut segment_offsets = Vec::new();
        for segment in &self.segments {
            align(&mut bytes);
            segment_offsets.push(bytes.len() as u64);
            bytes.extend_from_slice(&segment.data);
        }
        let mut section_offsets = Vec::new();
        for (_, data) in &self.sections {
            align(&mut bytes);
            section_offsets.push(bytes.len() as u64);
            bytes.extend_from_slice(data);
        }
        align(&mut bytes);
        let section_table = bytes.len();
        if !self.sections.is_empty() {
            bytes.resize(section_table + 64 * (self.sections.len() + 1), 0);
        }

        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[field::CLASS] = 2;
        bytes[field::DATA] = 1;
        bytes[field::VERSION] = 1;
        put16(&mut bytes, field::TYPE, 2);
        put16(&mut bytes, field::MACHINE, 62);
        put32(&mut bytes, 20, 1);
        put64(&mut bytes, field::ENTRY, self.entry);
        put64(&mut bytes, field::PHOFF, 64);
        put16(&mut bytes, 52, 64);
        put16(&mut bytes, field::PHENTSIZE, 56);
        put16(&mut bytes, field::PHNUM, self.segments.len() as u16);
        if !self.sections.is_empty() {
            put64(&mut bytes, field::SHOFF, section_table as u64);
            put16(&mut bytes, field::SHENTSIZE, 64);
            put16(&mut bytes, field::SHNUM, self.sections.len() as u16 + 1);
        }
        for (index, (segment, offset)) in self.segments.iter().zip(segment_offsets).enumerate() {
            let at = phdr(index);
            put32(&mut bytes, at + field::P_TYPE, segment.kind);
            put32(&mut bytes, at + field::P_FLAGS, segment.flags);
            put64(&mut bytes, at + field::P_OFFSET, offset);
            put64(&mut bytes, at + field::P_VADDR, segment.vaddr);
            put64(&mut bytes, at + field::P_PADDR, segment.paddr);
            put64(&mut bytes, at + field::P_FILESZ, segment.data.len() as u64);
            put64(&mut bytes, at + field::P_MEMSZ, segment.mem_size);
            put64(&mut bytes, at + 48, 0x1000);
        }
        for (index, ((kind, data), offset)) in self.sections.iter().zip(section_offsets).enumerate() {
            let at = section_table + 64 * (index + 1);
            put32(&mut bytes, at + 4, *kind);
            put64(&mut bytes, at + field::SH_OFFSET, offset);
            put64(&mut bytes, at + field::SH_SIZE, data.len() as u64);
            put64(&mut bytes, at + 48, 4);
        }
        bytes
    }
}

/// File offset of program header `index` in a built image.
pub(crate) fn phdr(index: usize) -> usize {
    64 + 56 * index
}

/// File offset of section header `index` in `bytes`.
pub(crate) fn shdr(bytes: &[u8], index: usize) -> usize {
    get64(bytes, field::SHOFF) as usize + 64 * index
}

fn align(bytes: &mut Vec<u8>) {
    bytes.resize(bytes.len().next_multiple_of(8), 0);
}

pub(crate) fn put16(bytes: &mut [u8], at: usize, value: u16) {
    bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

pub(crate) fn put32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

pub(crate) fn put64(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

pub(crate) fn get64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// One ELF note with its name and descriptor padded to 4 bytes.
pub(crate) fn note(name: &[u8], kind: u32, descriptor: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&(descriptor.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&kind.to_le_bytes());
    for part in [name, descriptor] {
        bytes.extend_from_slice(part);
        bytes.resize(bytes.len().next_multiple_of(4), 0);
    }
    bytes
}

/// A Xen note with raw descriptor bytes.
pub(crate) fn xen(kind: u32, descriptor: &[u8]) -> Vec<u8> {
    note(b"Xen\0", kind, descriptor)
}

/// A Xen note holding a NUL-terminated string.
pub(crate) fn xen_str(kind: u32, value: &str) -> Vec<u8> {
    let mut descriptor = value.as_bytes().to_vec();
    descriptor.push(0);
    xen(kind, &descriptor)
}

/// A Xen note holding a 64-bit number.
pub(crate) fn xen_u64(kind: u32, value: u64) -> Vec<u8> {
    xen(kind, &value.to_le_bytes())
}

/// The notes of our example guest, linked at [`KERNEL_BASE`].
pub(crate) fn our_notes() -> Vec<u8> {
    use xen_abi::elfnote::*;
    [
        xen_str(XEN_ELFNOTE_GUEST_OS, "xen-core-hello"),
        xen_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0"),
        xen_str(XEN_ELFNOTE_LOADER, "generic"),
        xen_u64(XEN_ELFNOTE_VIRT_BASE, KERNEL_BASE),
        xen_u64(XEN_ELFNOTE_PADDR_OFFSET, KERNEL_BASE),
        xen_u64(XEN_ELFNOTE_ENTRY, KERNEL_BASE),
        xen_u64(XEN_ELFNOTE_HYPERCALL_PAGE, KERNEL_BASE + 0x1000),
    ]
    .concat()
}

/// An image shaped like our example guest with the given notes: text with the
/// hypercall page, read-only data, data with bss, and a `PT_NOTE` segment.
pub(crate) fn ours_with(notes: Vec<u8>) -> ElfBuilder {
    ElfBuilder::new(KERNEL_BASE)
        .load(RX, KERNEL_BASE, 0x2000, 0x2000)
        .load(R, KERNEL_BASE + 0x2000, 0x40, 0x40)
        .load(RW, KERNEL_BASE + 0x3000, 0x10, 0x2000)
        .note_segment(notes)
}

/// Our example guest's shape.
pub(crate) fn ours() -> ElfBuilder {
    ours_with(our_notes())
}

/// The notes of Mini-OS: no ENTRY, VIRT_BASE or PADDR_OFFSET.
pub(crate) fn mini_os_notes() -> Vec<u8> {
    use xen_abi::elfnote::*;
    [
        xen_str(XEN_ELFNOTE_GUEST_OS, "Mini-OS"),
        xen_str(XEN_ELFNOTE_LOADER, "generic"),
        xen_u64(XEN_ELFNOTE_HYPERCALL_PAGE, 0x2000),
        xen_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0"),
    ]
    .concat()
}

/// Mini-OS's shape: linked at 0, entry 0, no `PT_NOTE`, the notes in an
/// `SHT_NOTE` section outside every segment, among other sections.
pub(crate) fn mini_os_with(notes: Vec<u8>) -> ElfBuilder {
    ElfBuilder::new(0)
        .load(RX, 0, 0x3000, 0x3000)
        .load(RW, 0x3000, 0x100, 0x1000)
        .section(SHT_PROGBITS, vec![0xcc; 16])
        .section(SHT_NOTE, notes)
}

/// Mini-OS's shape with its notes.
pub(crate) fn mini_os() -> ElfBuilder {
    mini_os_with(mini_os_notes())
}

/// Where our example guest's build puts it, if it has been built.
pub(crate) fn example_guest() -> Option<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/bare-metal/x86_64-unknown-none/release/hello"
    );
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            std::eprintln!("skipping: example guest {path} not readable ({error}); build it with cargo xtask");
            None
        }
    }
}

/// `readelf` run on the example guest, or `None` if the host has none.
pub(crate) fn readelf(args: &[&str]) -> Option<std::string::String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/bare-metal/x86_64-unknown-none/release/hello"
    );
    match std::process::Command::new("readelf").args(args).arg(path).output() {
        Ok(output) if output.status.success() => Some(std::string::String::from_utf8(output.stdout).unwrap()),
        Ok(output) => panic!("readelf {args:?} failed: {}", output.status),
        Err(error) => {
            std::eprintln!("skipping the readelf comparison: {error}");
            None
        }
    }
}
