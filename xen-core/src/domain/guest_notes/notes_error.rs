//! Why an image's notes were refused: [`NotesError`], the guest ranges its messages
//! name, and the names of the note types.

use crate::domain::elf_image::MAX_IMAGE_BYTES;
use crate::domain::guest_notes::guest_requirements::{GENERIC_LOADER, LINUX, XEN_VERSION_PREFIX};
use crate::domain::guest_notes::hypervisor_area::{HYPERVISOR_AREA_END, HYPERVISOR_AREA_START};
use crate::domain::guest_notes::note_text::NoteText;
use core::fmt;
use xen_abi::elfnote::*;

/// The name of a Xen note type the reader knows, for messages.
pub(super) fn note_name(note_type: u32) -> Option<&'static str> {
    Some(match note_type {
        XEN_ELFNOTE_ENTRY => "ENTRY",
        XEN_ELFNOTE_HYPERCALL_PAGE => "HYPERCALL_PAGE",
        XEN_ELFNOTE_VIRT_BASE => "VIRT_BASE",
        XEN_ELFNOTE_PADDR_OFFSET => "PADDR_OFFSET",
        XEN_ELFNOTE_XEN_VERSION => "XEN_VERSION",
        XEN_ELFNOTE_GUEST_OS => "GUEST_OS",
        XEN_ELFNOTE_GUEST_VERSION => "GUEST_VERSION",
        XEN_ELFNOTE_LOADER => "LOADER",
        XEN_ELFNOTE_PAE_MODE => "PAE_MODE",
        XEN_ELFNOTE_FEATURES => "FEATURES",
        XEN_ELFNOTE_BSD_SYMTAB => "BSD_SYMTAB",
        XEN_ELFNOTE_HV_START_LOW => "HV_START_LOW",
        XEN_ELFNOTE_SUSPEND_CANCEL => "SUSPEND_CANCEL",
        XEN_ELFNOTE_INIT_P2M => "INIT_P2M",
        XEN_ELFNOTE_MOD_START_PFN => "MOD_START_PFN",
        XEN_ELFNOTE_SUPPORTED_FEATURES => "SUPPORTED_FEATURES",
        XEN_ELFNOTE_PHYS32_ENTRY => "PHYS32_ENTRY",
        _ => return None,
    })
}

/// A note type shown by name.
struct NoteName(u32);

impl fmt::Display for NoteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match note_name(self.0) {
            Some(name) => f.write_str(name),
            None => write!(f, "type {}", self.0),
        }
    }
}
/// A range the notes place in the guest's address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestRange {
    /// `[virt_kstart, virt_kend)`, where the segments are loaded.
    Kernel,
    /// `[virt_base, virt_kend)`, mapped to guest memory before the guest runs.
    InitialMapping,
}

impl fmt::Display for GuestRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GuestRange::Kernel => "kernel range",
            GuestRange::InitialMapping => "initial mapping from VIRT_BASE",
        })
    }
}

/// Why an image's notes were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotesError {
    /// The image has no note named "Xen".
    NoXenNotes,
    /// PHYS32_ENTRY without XEN_VERSION or GUEST_OS: a PVH-only kernel.
    PvhOnly,
    /// A required note is missing or, for GUEST_OS, empty.
    MissingNote(u32),
    /// A note of this type appears more than once.
    RepeatedNote(u32),
    /// A numeric note whose descriptor is not 1, 2, 4 or 8 bytes.
    BadNumberSize {
        /// The note type.
        note_type: u32,
        /// The descriptor's size.
        size: usize,
    },
    /// A 32-bit note holds a larger number.
    NumberTooWide {
        /// The note type.
        note_type: u32,
        /// The number.
        value: u64,
    },
    /// A string note is not UTF-8.
    NotUtf8(u32),
    /// XEN_VERSION does not start with "xen-3.0".
    BadXenVersion(NoteText),
    /// LOADER is not "generic" for a guest other than Linux.
    WrongLoader(NoteText),
    /// FEATURES requires a feature we do not know.
    UnknownRequiredFeature(NoteText),
    /// SUPPORTED_FEATURES is not a whole number of 32-bit bitmaps.
    BadFeatureBitmap {
        /// The descriptor's size.
        size: usize,
    },
    /// PAE_MODE says the guest does not use PAE-format page tables.
    BadPaeMode(NoteText),
    /// HV_START_LOW is not where the hypervisor's area starts in 64-bit mode.
    HvStartLow {
        /// The note's value.
        value: u64,
    },
    /// PADDR_OFFSET is given without VIRT_BASE.
    PaddrOffsetWithoutVirtBase,
    /// A segment's physical address is below PADDR_OFFSET.
    BelowPaddrOffset {
        /// Index of the program header.
        index: usize,
        /// `p_paddr`.
        paddr: u64,
        /// PADDR_OFFSET.
        paddr_offset: u64,
    },
    /// A segment would be loaded past the top of the address space.
    LoadAddressOverflow {
        /// Index of the program header.
        index: usize,
    },
    /// A range is not canonical.
    NotCanonical {
        /// Which range.
        range: GuestRange,
        /// Its start.
        start: u64,
        /// Its end (exclusive).
        end: u64,
    },
    /// A range touches the hypervisor's L4 slots 256–271.
    InHypervisorArea {
        /// Which range.
        range: GuestRange,
        /// Its start.
        start: u64,
        /// Its end (exclusive).
        end: u64,
    },
    /// The initial mapping from VIRT_BASE is larger than [`MAX_IMAGE_BYTES`].
    MappingTooLarge {
        /// VIRT_BASE.
        virt_base: u64,
        /// The kernel's end.
        end: u64,
    },
    /// The entry point is not inside an executable segment.
    EntryOutsideCode {
        /// The entry point.
        entry: u64,
    },
    /// HYPERCALL_PAGE is not page-aligned.
    HypercallPageMisaligned {
        /// The note's address.
        address: u64,
    },
    /// HYPERCALL_PAGE is not inside a loaded segment.
    HypercallPageOutside {
        /// The note's address.
        address: u64,
    },
    /// INIT_P2M cannot hold the p2m list.
    BadInitP2m {
        /// The note's address.
        address: u64,
        /// What is wrong with it.
        problem: &'static str,
    },
}

impl fmt::Display for NotesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("guest image: ")?;
        match self {
            NotesError::NoXenNotes => f.write_str("no Xen ELF notes in a PT_NOTE segment or SHT_NOTE section"),
            NotesError::PvhOnly => {
                f.write_str("a PVH-only kernel (PHYS32_ENTRY without XEN_VERSION and GUEST_OS notes) is not a PV guest")
            }
            &NotesError::MissingNote(note_type) => {
                write!(f, "the {} note is missing or empty", NoteName(note_type))
            }
            &NotesError::RepeatedNote(note_type) => {
                write!(f, "the {} note appears more than once", NoteName(note_type))
            }
            &NotesError::BadNumberSize { note_type, size } => write!(
                f,
                "the {} note holds a {size}-byte number; numbers are 1, 2, 4 or 8 bytes",
                NoteName(note_type)
            ),
            &NotesError::NumberTooWide { note_type, value } => {
                write!(
                    f,
                    "the {} note value {value:#x} does not fit in 32 bits",
                    NoteName(note_type)
                )
            }
            &NotesError::NotUtf8(note_type) => write!(f, "the {} note string is not UTF-8", NoteName(note_type)),
            NotesError::BadXenVersion(found) => {
                write!(f, "XEN_VERSION is {found}; it must start with \"{XEN_VERSION_PREFIX}\"")
            }
            NotesError::WrongLoader(found) => write!(
                f,
                "LOADER is {found}; only \"{GENERIC_LOADER}\" is accepted unless GUEST_OS is \"{LINUX}\""
            ),
            NotesError::UnknownRequiredFeature(name) => {
                write!(f, "FEATURES requires {name}, which is not a known XENFEAT")
            }
            NotesError::BadFeatureBitmap { size } => write!(
                f,
                "SUPPORTED_FEATURES is {size} bytes; it must be a non-zero multiple of 4"
            ),
            NotesError::BadPaeMode(found) => write!(
                f,
                "PAE_MODE is {found}, but a 64-bit guest always uses PAE-format page tables"
            ),
            NotesError::HvStartLow { value } => write!(
                f,
                "HV_START_LOW {value:#x} is for 32-bit guests; in 64-bit mode the hypervisor's area starts at \
                 {HYPERVISOR_AREA_START:#x}"
            ),
            NotesError::PaddrOffsetWithoutVirtBase => f.write_str("PADDR_OFFSET is given without VIRT_BASE"),
            NotesError::BelowPaddrOffset {
                index,
                paddr,
                paddr_offset,
            } => write!(
                f,
                "program header {index}'s physical address {paddr:#x} is below PADDR_OFFSET {paddr_offset:#x}"
            ),
            NotesError::LoadAddressOverflow { index } => write!(
                f,
                "program header {index} would be loaded past the top of the address space \
                 (VIRT_BASE + p_paddr - PADDR_OFFSET + p_memsz overflows)"
            ),
            NotesError::NotCanonical { range, start, end } => {
                write!(f, "the {range} [{start:#x}, {end:#x}) is not canonical")
            }
            NotesError::InHypervisorArea { range, start, end } => write!(
                f,
                "the {range} [{start:#x}, {end:#x}) overlaps the hypervisor's L4 slots 256-271 \
                 [{HYPERVISOR_AREA_START:#x}, {HYPERVISOR_AREA_END:#x})"
            ),
            NotesError::MappingTooLarge { virt_base, end } => write!(
                f,
                "the initial mapping from VIRT_BASE {virt_base:#x} to the kernel's end {end:#x} is larger than \
                 {MAX_IMAGE_BYTES:#x} bytes"
            ),
            NotesError::EntryOutsideCode { entry } => {
                write!(
                    f,
                    "the entry point {entry:#x} is not inside an executable loaded segment"
                )
            }
            NotesError::HypercallPageMisaligned { address } => {
                write!(f, "HYPERCALL_PAGE {address:#x} is not page-aligned")
            }
            NotesError::HypercallPageOutside { address } => {
                write!(f, "HYPERCALL_PAGE {address:#x} is not inside a loaded segment")
            }
            NotesError::BadInitP2m { address, problem } => write!(f, "INIT_P2M {address:#x} {problem}"),
        }
    }
}
