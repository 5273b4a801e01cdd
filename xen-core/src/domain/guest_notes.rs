//! What a PV kernel's Xen notes ask of the domain builder, read as Xen reads them.
//!
//! The rules follow Xen's libelf (`xen/common/libelf/libelf-dominfo.c`:
//! `elf_xen_parse_note`, `elf_xen_note_check`, `elf_xen_addr_calc_check`) for a
//! 64-bit PV guest:
//! - XEN_VERSION must start with "xen-3.0", and LOADER must be "generic" unless
//!   GUEST_OS is "linux". libelf compares prefixes; we compare whole strings.
//! - VIRT_BASE defaults to 0. PADDR_OFFSET defaults to **0**, not to VIRT_BASE:
//!   libelf's `elf_xen_addr_calc_check` uses VIRT_BASE only for images described by
//!   the legacy `__xen_guest` section, which [`ElfImage`] does not read, and always
//!   0 when ELF notes are present. PADDR_OFFSET without VIRT_BASE is refused, as
//!   libelf does.
//! - ENTRY defaults to the ELF entry point.
//! - Segments are placed by physical address: segment bytes go to
//!   `VIRT_BASE + p_paddr - PADDR_OFFSET` (libelf's `virt_offset` applied to `pstart`
//!   and `pend` in `elf_xen_addr_calc_check`, and `elf_load_binary`). The kernel range
//!   `[virt_kstart, virt_kend)` runs from the lowest such start to the highest end.
//! - FEATURES is a `|`-separated list of XENFEAT names, `!` marking the ones the
//!   guest requires: an unknown required name is refused, unknown optional ones are
//!   ignored. SUPPORTED_FEATURES ORs its first 32-bit bitmap into the supported set
//!   (`XENFEAT_NR_SUBMAPS` is 1).
//!
//! Where libelf is lenient we refuse, because a guest controls the image:
//! - a numeric descriptor that is not 1, 2, 4 or 8 bytes (libelf reads 0), a string
//!   without its NUL inside the descriptor or not UTF-8, a repeated note (libelf keeps
//!   the last), and a missing or empty GUEST_OS (libelf needs it only to be "linux");
//! - a segment whose `p_paddr` is below PADDR_OFFSET (libelf wraps around);
//! - an entry point outside every executable segment (libelf only checks
//!   `virt_kstart <= entry <= virt_kend`), a HYPERCALL_PAGE that is not page-aligned
//!   or not inside a segment, and INIT_P2M not page-aligned, outside the guest's
//!   part of the address space, or inside the kernel (libelf checks the last only);
//! - a kernel range, or the initial mapping from VIRT_BASE to its end, that is not
//!   canonical, touches the hypervisor's L4 slots 256–271 or ends at the top of the
//!   address space; and an initial mapping larger than [`MAX_IMAGE_BYTES`], since
//!   every page of it becomes guest memory.
//!
//! Notes meant for other kinds of guest:
//! - PAE_MODE describes 32-bit paging. A 64-bit kernel always uses PAE-format
//!   entries, so the values that say so ("yes…", or anything mentioning "bimodal")
//!   are accepted and ignored; anything else, such as "no", is refused.
//! - HV_START_LOW moves the hypervisor's area for 32-bit guests. In 64-bit mode the
//!   area is fixed, so only its real start (0xffff800000000000) is accepted.
//! - PHYS32_ENTRY is the PVH entry point. Kernels such as Linux carry it next to
//!   their PV notes, and it is then recorded and unused; an image that has it but
//!   lacks XEN_VERSION or GUEST_OS is a PVH-only kernel, refused as not a PV guest.
//! - INFO, L1_MFN_VALID, PHYS32_RELOC and unknown types are ignored, as libelf does
//!   for a 64-bit PV guest. BSD_SYMTAB is recorded but the kernel range does not
//!   grow for it: placing the symbol table is the builder's business.

use crate::domain::elf_image::{ElfImage, LoadSegment, MAX_IMAGE_BYTES, SegmentFlags, XenNote};
use crate::mm::layout::{FIRST_HYPERVISOR_L4_SLOT, LAST_HYPERVISOR_L4_SLOT, is_canonical};
use crate::mm::mfn::PAGE_SIZE;
use core::fmt::{self, Write};
use xen_abi::elfnote::*;

/// The XENFEAT names the FEATURES note may use, by bit number
/// (`xen/include/public/features.h`, submap 0).
const FEATURE_NAMES: [(u32, &str); 12] = [
    (0, "writable_page_tables"),
    (1, "writable_descriptor_tables"),
    (2, "auto_translated_physmap"),
    (3, "supervisor_mode_kernel"),
    (4, "pae_pgdir_above_4gb"),
    (5, "mmu_pt_update_preserve_ad"),
    (6, "highmem_assist"),
    (7, "gnttab_map_avail_bits"),
    (8, "hvm_callback_vector"),
    (9, "hvm_safe_pvclock"),
    (10, "hvm_pirqs"),
    (11, "dom0"),
];

/// The XEN_VERSION prefix every loadable guest carries.
const XEN_VERSION_PREFIX: &str = "xen-3.0";
/// The only LOADER accepted from guests other than Linux.
const GENERIC_LOADER: &str = "generic";
/// The GUEST_OS that may use any LOADER.
const LINUX: &str = "linux";
/// Start of the hypervisor's L4 slots, the only sensible HV_START_LOW in 64-bit mode.
const HYPERVISOR_AREA_START: u64 = l4_slot_base(FIRST_HYPERVISOR_L4_SLOT);
/// End of the hypervisor's L4 slots.
const HYPERVISOR_AREA_END: u64 = l4_slot_base(LAST_HYPERVISOR_L4_SLOT + 1);

/// The canonical address where L4 slot `slot` begins.
const fn l4_slot_base(slot: usize) -> u64 {
    let address = (slot as u64) << 39;
    if address & (1 << 47) != 0 {
        address | 0xFFFF_0000_0000_0000
    } else {
        address
    }
}

/// XENFEAT bit sets (bit n is XENFEAT n) a guest declares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// Features the guest can use; includes every required one.
    pub supported: u32,
    /// Features the guest cannot run without.
    pub required: u32,
}

/// What a PV kernel's Xen notes say, with defaults applied and addresses checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestNotes<'a> {
    /// GUEST_OS, e.g. "linux" or "Mini-OS".
    pub guest_os: &'a str,
    /// GUEST_VERSION, informational.
    pub guest_version: Option<&'a str>,
    /// XEN_VERSION, starting with "xen-3.0".
    pub xen_version: &'a str,
    /// LOADER; "generic" unless the guest is Linux.
    pub loader: Option<&'a str>,
    /// FEATURES and SUPPORTED_FEATURES together.
    pub features: Features,
    /// Where pseudo-physical address 0 is mapped (VIRT_BASE, default 0).
    pub virt_base: u64,
    /// Subtracted from `p_paddr` to place segments (PADDR_OFFSET, default 0).
    pub paddr_offset: u64,
    /// First instruction (ENTRY, default the ELF entry point).
    pub entry: u64,
    /// Page to fill with hypercall stubs (HYPERCALL_PAGE), page-aligned.
    pub hypercall_page: Option<u64>,
    /// Where the guest wants its p2m list mapped (INIT_P2M), page-aligned.
    pub init_p2m: Option<u64>,
    /// The guest accepts its module unmapped, given by frame number (MOD_START_PFN).
    pub mod_start_pfn: bool,
    /// The guest supports cooperative suspend cancellation (SUSPEND_CANCEL).
    pub suspend_cancel: bool,
    /// The guest wants its symbol table loaded after the image (BSD_SYMTAB "yes").
    pub bsd_symtab: bool,
    /// PVH entry point (PHYS32_ENTRY), unused by a PV domain.
    pub phys32_entry: Option<u32>,
    /// Lowest virtual address the segments are loaded at.
    pub virt_kstart: u64,
    /// End (exclusive) of the highest loaded segment.
    pub virt_kend: u64,
}

/// The notes as found, before defaults and checks.
#[derive(Default)]
struct Found<'a> {
    count: usize,
    /// Bit n set once a note of type n (< 32) has been read, to refuse repeats.
    seen: u32,
    guest_os: Option<&'a str>,
    guest_version: Option<&'a str>,
    xen_version: Option<&'a str>,
    loader: Option<&'a str>,
    features: Features,
    virt_base: Option<u64>,
    paddr_offset: Option<u64>,
    entry: Option<u64>,
    hypercall_page: Option<u64>,
    init_p2m: Option<u64>,
    mod_start_pfn: bool,
    suspend_cancel: bool,
    bsd_symtab: bool,
    phys32_entry: Option<u32>,
}

impl<'a> GuestNotes<'a> {
    /// Reads and checks the Xen notes of `image`.
    pub fn from_image(image: &ElfImage<'a>) -> Result<GuestNotes<'a>, NotesError> {
        let mut found = Found::default();
        for note in image.xen_notes() {
            found.read(note)?;
        }
        if found.count == 0 {
            return Err(NotesError::NoXenNotes);
        }
        let (guest_os, xen_version) = match (found.guest_os, found.xen_version) {
            (Some(guest_os), Some(xen_version)) => (guest_os, xen_version),
            _ if found.phys32_entry.is_some() => return Err(NotesError::PvhOnly),
            (None, _) => return Err(NotesError::MissingNote(XEN_ELFNOTE_GUEST_OS)),
            (_, None) => return Err(NotesError::MissingNote(XEN_ELFNOTE_XEN_VERSION)),
        };
        if !xen_version.starts_with(XEN_VERSION_PREFIX) {
            return Err(NotesError::BadXenVersion(NoteText::new(xen_version)));
        }
        if guest_os.is_empty() {
            return Err(NotesError::MissingNote(XEN_ELFNOTE_GUEST_OS));
        }
        if guest_os != LINUX {
            match found.loader {
                None => return Err(NotesError::MissingNote(XEN_ELFNOTE_LOADER)),
                Some(loader) if loader != GENERIC_LOADER => {
                    return Err(NotesError::WrongLoader(NoteText::new(loader)));
                }
                Some(_) => {}
            }
        }
        if found.paddr_offset.is_some() && found.virt_base.is_none() {
            return Err(NotesError::PaddrOffsetWithoutVirtBase);
        }
        let mut notes = GuestNotes {
            guest_os,
            guest_version: found.guest_version,
            xen_version,
            loader: found.loader,
            features: found.features,
            virt_base: found.virt_base.unwrap_or(0),
            paddr_offset: found.paddr_offset.unwrap_or(0),
            entry: found.entry.unwrap_or(image.entry()),
            hypercall_page: found.hypercall_page,
            init_p2m: found.init_p2m,
            mod_start_pfn: found.mod_start_pfn,
            suspend_cancel: found.suspend_cancel,
            bsd_symtab: found.bsd_symtab,
            phys32_entry: found.phys32_entry,
            virt_kstart: 0,
            virt_kend: 0,
        };
        notes.place(image)?;
        Ok(notes)
    }

    /// Virtual range `[start, end)` `segment` is loaded at, if it fits below the top
    /// of the address space and above PADDR_OFFSET.
    pub fn load_range(&self, segment: &LoadSegment) -> Option<(u64, u64)> {
        let start = self
            .virt_base
            .checked_add(segment.paddr.checked_sub(self.paddr_offset)?)?;
        Some((start, start.checked_add(segment.mem_size)?))
    }

    /// Computes the kernel range and checks every address against it.
    fn place(&mut self, image: &ElfImage<'a>) -> Result<(), NotesError> {
        let mut kernel: Option<(u64, u64)> = None;
        for segment in image.segments() {
            let index = segment.header_index;
            if segment.paddr < self.paddr_offset {
                return Err(NotesError::BelowPaddrOffset {
                    index,
                    paddr: segment.paddr,
                    paddr_offset: self.paddr_offset,
                });
            }
            let (start, end) = self
                .load_range(segment)
                .ok_or(NotesError::LoadAddressOverflow { index })?;
            kernel = Some(match kernel {
                Some((low, high)) => (low.min(start), high.max(end)),
                None => (start, end),
            });
        }
        // `ElfImage` keeps at least one segment; an empty list leaves an empty range.
        let (virt_kstart, virt_kend) = kernel.unwrap_or((self.virt_base, self.virt_base));
        self.virt_kstart = virt_kstart;
        self.virt_kend = virt_kend;
        check_guest_range(GuestRange::Kernel, virt_kstart, virt_kend)?;
        // Every page from VIRT_BASE to the kernel's end is mapped to guest memory.
        check_guest_range(GuestRange::InitialMapping, self.virt_base, virt_kend)?;
        if virt_kend.saturating_sub(self.virt_base) > MAX_IMAGE_BYTES {
            return Err(NotesError::MappingTooLarge {
                virt_base: self.virt_base,
                end: virt_kend,
            });
        }

        let inside = |address: u64, executable: bool| {
            image.segments().iter().any(|segment| {
                (!executable || segment.flags.contains(SegmentFlags::X))
                    && self
                        .load_range(segment)
                        .is_some_and(|(start, end)| start <= address && address < end)
            })
        };
        if !inside(self.entry, true) {
            return Err(NotesError::EntryOutsideCode { entry: self.entry });
        }
        if let Some(address) = self.hypercall_page {
            if !address.is_multiple_of(PAGE_SIZE) {
                return Err(NotesError::HypercallPageMisaligned { address });
            }
            if !inside(address, false) {
                return Err(NotesError::HypercallPageOutside { address });
            }
        }
        if let Some(address) = self.init_p2m {
            let problem = if !address.is_multiple_of(PAGE_SIZE) {
                Some("is not page-aligned")
            } else if !is_canonical(address) {
                Some("is not canonical")
            } else if (HYPERVISOR_AREA_START..HYPERVISOR_AREA_END).contains(&address) {
                Some("lies in the hypervisor's L4 slots 256-271")
            } else if (virt_kstart..virt_kend).contains(&address) {
                Some("lies inside the kernel")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(NotesError::BadInitP2m { address, problem });
            }
        }
        Ok(())
    }
}

impl<'a> Found<'a> {
    /// Records one Xen note.
    fn read(&mut self, note: XenNote<'a>) -> Result<(), NotesError> {
        let note_type = note.note_type;
        self.count = self.count.saturating_add(1);
        if note_name(note_type).is_some() {
            let bit = 1u32.checked_shl(note_type).unwrap_or(0);
            if self.seen & bit != 0 {
                return Err(NotesError::RepeatedNote(note_type));
            }
            self.seen |= bit;
        }
        match note_type {
            XEN_ELFNOTE_ENTRY => self.entry = Some(number(note)?),
            XEN_ELFNOTE_HYPERCALL_PAGE => self.hypercall_page = Some(number(note)?),
            XEN_ELFNOTE_VIRT_BASE => self.virt_base = Some(number(note)?),
            XEN_ELFNOTE_PADDR_OFFSET => self.paddr_offset = Some(number(note)?),
            XEN_ELFNOTE_INIT_P2M => self.init_p2m = Some(number(note)?),
            XEN_ELFNOTE_MOD_START_PFN => self.mod_start_pfn = number(note)? != 0,
            XEN_ELFNOTE_SUSPEND_CANCEL => self.suspend_cancel = number(note)? != 0,
            XEN_ELFNOTE_PHYS32_ENTRY => {
                let value = number(note)?;
                let entry = u32::try_from(value).map_err(|_| NotesError::NumberTooWide { note_type, value })?;
                self.phys32_entry = Some(entry);
            }
            XEN_ELFNOTE_HV_START_LOW => {
                let value = number(note)?;
                if value != HYPERVISOR_AREA_START {
                    return Err(NotesError::HvStartLow { value });
                }
            }
            XEN_ELFNOTE_XEN_VERSION => self.xen_version = Some(string(note)?),
            XEN_ELFNOTE_GUEST_OS => self.guest_os = Some(string(note)?),
            XEN_ELFNOTE_GUEST_VERSION => self.guest_version = Some(string(note)?),
            XEN_ELFNOTE_LOADER => self.loader = Some(string(note)?),
            XEN_ELFNOTE_BSD_SYMTAB => self.bsd_symtab = string(note)? == "yes",
            XEN_ELFNOTE_PAE_MODE => {
                let mode = string(note)?;
                if !(mode.starts_with("yes") || mode.contains("bimodal")) {
                    return Err(NotesError::BadPaeMode(NoteText::new(mode)));
                }
            }
            XEN_ELFNOTE_FEATURES => self.read_features(string(note)?)?,
            XEN_ELFNOTE_SUPPORTED_FEATURES => {
                // A multiple of 32-bit submaps; only submap 0 is defined.
                let size = note.descriptor.len();
                let submap = note
                    .descriptor
                    .first_chunk::<4>()
                    .filter(|_| size.is_multiple_of(4))
                    .ok_or(NotesError::BadFeatureBitmap { size })?;
                self.features.supported |= u32::from_le_bytes(*submap);
            }
            _ => {}
        }
        Ok(())
    }

    /// Adds the features of a FEATURES string.
    fn read_features(&mut self, list: &str) -> Result<(), NotesError> {
        for name in list.split('|').filter(|name| !name.is_empty()) {
            let (required, name) = match name.strip_prefix('!') {
                Some(name) => (true, name),
                None => (false, name),
            };
            match FEATURE_NAMES.iter().find(|(_, known)| *known == name) {
                Some(&(bit, _)) => {
                    self.features.supported |= 1 << bit;
                    if required {
                        self.features.required |= 1 << bit;
                    }
                }
                None if required => return Err(NotesError::UnknownRequiredFeature(NoteText::new(name))),
                None => {}
            }
        }
        Ok(())
    }
}

/// A numeric descriptor: 1, 2, 4 or 8 bytes, little-endian.
fn number(note: XenNote<'_>) -> Result<u64, NotesError> {
    Ok(match *note.descriptor {
        [byte] => u64::from(byte),
        [b0, b1] => u64::from(u16::from_le_bytes([b0, b1])),
        [b0, b1, b2, b3] => u64::from(u32::from_le_bytes([b0, b1, b2, b3])),
        [b0, b1, b2, b3, b4, b5, b6, b7] => u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]),
        _ => {
            return Err(NotesError::BadNumberSize {
                note_type: note.note_type,
                size: note.descriptor.len(),
            });
        }
    })
}

/// A string descriptor: UTF-8 up to a NUL inside the descriptor.
fn string(note: XenNote<'_>) -> Result<&str, NotesError> {
    let note_type = note.note_type;
    let end = note
        .descriptor
        .iter()
        .position(|&byte| byte == 0)
        .ok_or(NotesError::UnterminatedString(note_type))?;
    let bytes = note.descriptor.get(..end).unwrap_or_default();
    core::str::from_utf8(bytes).map_err(|_| NotesError::NotUtf8(note_type))
}

/// Checks that `[start, end)` is canonical, outside the hypervisor's L4 slots and
/// below the top of the address space; an empty range passes.
fn check_guest_range(range: GuestRange, start: u64, end: u64) -> Result<(), NotesError> {
    let Some(last) = end.checked_sub(1).filter(|&last| last >= start) else {
        return Ok(());
    };
    // Both ends canonical and in the same half: nothing in between is not.
    if !is_canonical(start) || !is_canonical(last) || start >> 63 != last >> 63 {
        return Err(NotesError::NotCanonical { range, start, end });
    }
    if start < HYPERVISOR_AREA_END && end > HYPERVISOR_AREA_START {
        return Err(NotesError::InHypervisorArea { range, start, end });
    }
    Ok(())
}

/// The name of a Xen note type this module reads, for messages.
fn note_name(note_type: u32) -> Option<&'static str> {
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

/// The start of a guest's string, kept for an error message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteText {
    text: heapless::String<{ NoteText::MAX_BYTES }>,
    cut: bool,
}

impl NoteText {
    /// Bytes of the string kept.
    pub const MAX_BYTES: usize = 40;

    /// Keeps up to [`Self::MAX_BYTES`] bytes of `text`, cut at a character boundary.
    pub fn new(text: &str) -> NoteText {
        let mut kept = heapless::String::new();
        let mut cut = false;
        for character in text.chars() {
            if kept.push(character).is_err() {
                cut = true;
                break;
            }
        }
        NoteText { text: kept, cut }
    }
}

/// Shows the text quoted with its control characters escaped, so that a hostile
/// string cannot break the line; `…` marks a cut.
impl fmt::Display for NoteText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for character in self.text.chars() {
            if character.is_control() || character == '"' || character == '\\' {
                write!(f, "{}", character.escape_default())?;
            } else {
                f.write_char(character)?;
            }
        }
        f.write_char('"')?;
        if self.cut {
            f.write_char('…')?;
        }
        Ok(())
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
    /// A string note has no NUL inside its descriptor.
    UnterminatedString(u32),
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
            &NotesError::UnterminatedString(note_type) => write!(
                f,
                "the {} note string has no NUL terminator inside its descriptor",
                NoteName(note_type)
            ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::elf_image::test_elf::*;
    use crate::mm::layout::is_hypervisor_address;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec;
    use std::vec::Vec;

    fn notes_of(bytes: &[u8]) -> Result<GuestNotes<'_>, NotesError> {
        GuestNotes::from_image(&ElfImage::parse(bytes).unwrap())
    }

    /// Our notes with `replace`'s types removed and `extra` appended.
    fn our_notes_with(remove: &[u32], extra: &[Vec<u8>]) -> Vec<u8> {
        let kept = [
            (XEN_ELFNOTE_GUEST_OS, xen_str(XEN_ELFNOTE_GUEST_OS, "xen-core-hello")),
            (XEN_ELFNOTE_XEN_VERSION, xen_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0")),
            (XEN_ELFNOTE_LOADER, xen_str(XEN_ELFNOTE_LOADER, "generic")),
            (XEN_ELFNOTE_VIRT_BASE, xen_u64(XEN_ELFNOTE_VIRT_BASE, KERNEL_BASE)),
            (XEN_ELFNOTE_PADDR_OFFSET, xen_u64(XEN_ELFNOTE_PADDR_OFFSET, KERNEL_BASE)),
            (XEN_ELFNOTE_ENTRY, xen_u64(XEN_ELFNOTE_ENTRY, KERNEL_BASE)),
            (
                XEN_ELFNOTE_HYPERCALL_PAGE,
                xen_u64(XEN_ELFNOTE_HYPERCALL_PAGE, KERNEL_BASE + 0x1000),
            ),
        ];
        let mut notes: Vec<u8> = kept
            .into_iter()
            .filter(|(kind, _)| !remove.contains(kind))
            .flat_map(|(_, note)| note)
            .collect();
        for note in extra {
            notes.extend_from_slice(note);
        }
        notes
    }

    /// The result for our image with these notes.
    fn ours_noted(remove: &[u32], extra: &[Vec<u8>]) -> Result<GuestNotes<'static>, NotesError> {
        let bytes = ours_with(our_notes_with(remove, extra)).build().leak();
        notes_of(bytes)
    }

    #[test]
    fn an_image_like_ours_is_read_with_its_addresses() {
        let bytes = ours().build();
        let notes = notes_of(&bytes).unwrap();
        assert_eq!(notes.guest_os, "xen-core-hello");
        assert_eq!(notes.xen_version, "xen-3.0");
        assert_eq!(notes.loader, Some("generic"));
        assert_eq!(notes.guest_version, None);
        assert_eq!((notes.virt_base, notes.paddr_offset), (KERNEL_BASE, KERNEL_BASE));
        assert_eq!(notes.entry, KERNEL_BASE);
        assert_eq!(notes.hypercall_page, Some(KERNEL_BASE + 0x1000));
        assert_eq!(
            (notes.virt_kstart, notes.virt_kend),
            (KERNEL_BASE, KERNEL_BASE + 0x5000)
        );
        assert_eq!(notes.features, Features::default());
        assert_eq!(notes.phys32_entry, None);
    }

    #[test]
    fn a_mini_os_image_takes_every_default() {
        let bytes = mini_os().build();
        let notes = notes_of(&bytes).unwrap();
        assert_eq!(notes.guest_os, "Mini-OS");
        assert_eq!((notes.virt_base, notes.paddr_offset), (0, 0));
        // Entry 0 at VA 0 is legal: it is inside the first, executable segment.
        assert_eq!(notes.entry, 0);
        assert_eq!(notes.hypercall_page, Some(0x2000));
        assert_eq!((notes.virt_kstart, notes.virt_kend), (0, 0x4000));
    }

    #[test]
    fn segments_are_placed_by_physical_address_as_libelf_does() {
        // A Linux-like image: linked high, physical addresses from 16 MiB, no
        // PADDR_OFFSET (so 0, not VIRT_BASE).
        let virt_base = KERNEL_BASE;
        let mut builder = ElfBuilder::new(virt_base + 0x100_0000)
            .load(RX, virt_base + 0x100_0000, 0x100, 0x1000)
            .load(RW, virt_base + 0x100_1000, 0x100, 0x3000)
            .note_segment(
                [
                    xen_str(XEN_ELFNOTE_GUEST_OS, "linux"),
                    xen_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0"),
                    xen_u64(XEN_ELFNOTE_VIRT_BASE, virt_base),
                    xen_u64(XEN_ELFNOTE_ENTRY, virt_base + 0x100_0010),
                    xen_str(XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb"),
                    xen_str(XEN_ELFNOTE_PAE_MODE, "yes"),
                    xen_u64(XEN_ELFNOTE_INIT_P2M, 0x80_0000_0000),
                    xen(XEN_ELFNOTE_SUPPORTED_FEATURES, &(1u32 << 11).to_le_bytes()),
                    xen(XEN_ELFNOTE_PHYS32_ENTRY, &0x100_0000u32.to_le_bytes()),
                    xen(XEN_ELFNOTE_MOD_START_PFN, &[1]),
                    xen(XEN_ELFNOTE_SUSPEND_CANCEL, &1u16.to_le_bytes()),
                    xen_str(XEN_ELFNOTE_BSD_SYMTAB, "no"),
                    xen(XEN_ELFNOTE_L1_MFN_VALID, &[0; 16]),
                ]
                .concat(),
            );
        for segment in &mut builder.segments[..2] {
            segment.paddr = segment.vaddr - virt_base;
        }
        let bytes = builder.build();
        let notes = notes_of(&bytes).unwrap();
        assert_eq!(notes.loader, None);
        assert_eq!(notes.paddr_offset, 0);
        assert_eq!(
            (notes.virt_kstart, notes.virt_kend),
            (virt_base + 0x100_0000, virt_base + 0x100_4000)
        );
        assert_eq!(notes.entry, virt_base + 0x100_0010);
        assert_eq!(
            notes.features,
            Features {
                supported: 1 | 1 << 4 | 1 << 11,
                required: 1
            }
        );
        assert_eq!(notes.init_p2m, Some(0x80_0000_0000));
        assert_eq!(notes.phys32_entry, Some(0x100_0000));
        assert!(notes.mod_start_pfn && notes.suspend_cancel && !notes.bsd_symtab);

        // The linked address does not matter, only the physical one: Linux links its
        // per-CPU segment at 0.
        builder.segments[1].vaddr = 0;
        let bytes = builder.build();
        assert_eq!(notes_of(&bytes).unwrap().virt_kend, virt_base + 0x100_4000);
        let image = ElfImage::parse(&bytes).unwrap();
        let notes = GuestNotes::from_image(&image).unwrap();
        assert_eq!(
            notes.load_range(&image.segments()[1]),
            Some((virt_base + 0x100_1000, virt_base + 0x100_4000))
        );
    }

    #[test]
    fn numbers_may_be_one_two_four_or_eight_bytes() {
        for descriptor in [&[0x00u8][..], &[0, 0], &[0, 0, 0, 0], &[0; 8]] {
            let notes = mini_os_with([mini_os_notes(), xen(XEN_ELFNOTE_VIRT_BASE, descriptor)].concat()).build();
            assert_eq!(notes_of(&notes).unwrap().virt_base, 0);
        }
        let entry = KERNEL_BASE + 0x10;
        for (descriptor, value) in [
            (vec![0x10], 0x10),
            (0x1234u16.to_le_bytes().to_vec(), 0x1234),
            (0x8000_0010u32.to_le_bytes().to_vec(), 0x8000_0010),
            (entry.to_le_bytes().to_vec(), entry),
        ] {
            let result = ours_noted(&[XEN_ELFNOTE_ENTRY], &[xen(XEN_ELFNOTE_ENTRY, &descriptor)]);
            match result {
                Ok(notes) => assert_eq!(notes.entry, value),
                Err(error) => assert_eq!(error, NotesError::EntryOutsideCode { entry: value }),
            }
        }
        for size in [0, 3, 5, 16] {
            assert_eq!(
                ours_noted(&[XEN_ELFNOTE_ENTRY], &[xen(XEN_ELFNOTE_ENTRY, &vec![0; size])]),
                Err(NotesError::BadNumberSize {
                    note_type: XEN_ELFNOTE_ENTRY,
                    size
                })
            );
        }
        assert_eq!(
            ours_noted(&[], &[xen_u64(XEN_ELFNOTE_PHYS32_ENTRY, 1 << 32)]),
            Err(NotesError::NumberTooWide {
                note_type: XEN_ELFNOTE_PHYS32_ENTRY,
                value: 1 << 32
            })
        );
    }

    #[test]
    fn strings_must_be_terminated_utf8() {
        assert_eq!(
            ours_noted(&[XEN_ELFNOTE_GUEST_OS], &[xen(XEN_ELFNOTE_GUEST_OS, b"abcd")]),
            Err(NotesError::UnterminatedString(XEN_ELFNOTE_GUEST_OS))
        );
        assert_eq!(
            ours_noted(&[], &[xen(XEN_ELFNOTE_GUEST_VERSION, b"\xff\xfe\0")]),
            Err(NotesError::NotUtf8(XEN_ELFNOTE_GUEST_VERSION))
        );
        // Bytes after the NUL are not part of the string.
        let notes = ours_noted(&[], &[xen(XEN_ELFNOTE_GUEST_VERSION, b"1.0\0junk")]).unwrap();
        assert_eq!(notes.guest_version, Some("1.0"));
    }

    #[test]
    fn xen_version_guest_os_and_loader_are_required() {
        assert_eq!(
            ours_noted(
                &[XEN_ELFNOTE_XEN_VERSION],
                &[xen_str(XEN_ELFNOTE_XEN_VERSION, "xen-2.0")]
            ),
            Err(NotesError::BadXenVersion(NoteText::new("xen-2.0")))
        );
        let later = ours_noted(
            &[XEN_ELFNOTE_XEN_VERSION],
            &[xen_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0.4")],
        );
        assert_eq!(later.unwrap().xen_version, "xen-3.0.4");
        for missing in [XEN_ELFNOTE_XEN_VERSION, XEN_ELFNOTE_GUEST_OS, XEN_ELFNOTE_LOADER] {
            assert_eq!(ours_noted(&[missing], &[]), Err(NotesError::MissingNote(missing)));
        }
        assert_eq!(
            ours_noted(&[XEN_ELFNOTE_GUEST_OS], &[xen_str(XEN_ELFNOTE_GUEST_OS, "")]),
            Err(NotesError::MissingNote(XEN_ELFNOTE_GUEST_OS))
        );
        assert_eq!(
            ours_noted(&[XEN_ELFNOTE_LOADER], &[xen_str(XEN_ELFNOTE_LOADER, "linux")]),
            Err(NotesError::WrongLoader(NoteText::new("linux")))
        );
        // Linux may use any loader, or none.
        let linux = ours_noted(
            &[XEN_ELFNOTE_GUEST_OS, XEN_ELFNOTE_LOADER],
            &[
                xen_str(XEN_ELFNOTE_GUEST_OS, "linux"),
                xen_str(XEN_ELFNOTE_LOADER, "elf"),
            ],
        );
        assert_eq!(linux.unwrap().loader, Some("elf"));
        assert!(
            ours_noted(
                &[XEN_ELFNOTE_GUEST_OS, XEN_ELFNOTE_LOADER],
                &[xen_str(XEN_ELFNOTE_GUEST_OS, "linux")]
            )
            .is_ok()
        );
    }

    #[test]
    fn images_without_xen_notes_or_with_only_pvh_notes_are_refused() {
        let bytes = ours_with(note(b"GNU\0", 3, &[1; 8])).build();
        assert_eq!(notes_of(&bytes), Err(NotesError::NoXenNotes));
        let pvh = ours_with(xen(XEN_ELFNOTE_PHYS32_ENTRY, &0x10_0000u32.to_le_bytes())).build();
        assert_eq!(notes_of(&pvh), Err(NotesError::PvhOnly));
        let pvh = ours_noted(
            &[XEN_ELFNOTE_XEN_VERSION],
            &[xen(XEN_ELFNOTE_PHYS32_ENTRY, &0x10_0000u32.to_le_bytes())],
        );
        assert_eq!(pvh, Err(NotesError::PvhOnly));
    }

    #[test]
    fn a_repeated_note_is_refused() {
        assert_eq!(
            ours_noted(&[], &[xen_str(XEN_ELFNOTE_GUEST_OS, "another")]),
            Err(NotesError::RepeatedNote(XEN_ELFNOTE_GUEST_OS))
        );
        // Unknown types may repeat.
        let unknown = xen(99, &[1, 2, 3]);
        assert!(ours_noted(&[], &[unknown.clone(), unknown, xen(0, b"X=1\0")]).is_ok());
    }

    #[test]
    fn features_are_parsed_and_unknown_required_ones_refused() {
        let features = |list: &str| ours_noted(&[], &[xen_str(XEN_ELFNOTE_FEATURES, list)]).map(|notes| notes.features);
        assert_eq!(
            features("writable_descriptor_tables|!auto_translated_physmap||unknown_feature|dom0|"),
            Ok(Features {
                supported: 1 << 1 | 1 << 2 | 1 << 11,
                required: 1 << 2
            })
        );
        assert_eq!(features(""), Ok(Features::default()));
        assert_eq!(
            features("dom0|!flying_pigs"),
            Err(NotesError::UnknownRequiredFeature(NoteText::new("flying_pigs")))
        );
        assert_eq!(
            features("!"),
            Err(NotesError::UnknownRequiredFeature(NoteText::new("")))
        );
        // The bitmap note adds to the supported set, a 32-bit word at a time.
        let bitmap = |bytes: &[u8]| ours_noted(&[], &[xen(XEN_ELFNOTE_SUPPORTED_FEATURES, bytes)]);
        assert_eq!(
            bitmap(&[0x21, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])
                .unwrap()
                .features
                .supported,
            0x21
        );
        for size in [0, 3, 6] {
            assert_eq!(bitmap(&vec![0; size]), Err(NotesError::BadFeatureBitmap { size }));
        }
    }

    #[test]
    fn notes_for_32_bit_guests_must_fit_64_bit_mode() {
        for mode in ["yes", "yes[extended-cr3]", "bimodal"] {
            assert!(
                ours_noted(&[], &[xen_str(XEN_ELFNOTE_PAE_MODE, mode)]).is_ok(),
                "{mode}"
            );
        }
        assert_eq!(
            ours_noted(&[], &[xen_str(XEN_ELFNOTE_PAE_MODE, "no")]),
            Err(NotesError::BadPaeMode(NoteText::new("no")))
        );
        assert!(ours_noted(&[], &[xen_u64(XEN_ELFNOTE_HV_START_LOW, 0xFFFF_8000_0000_0000)]).is_ok());
        assert_eq!(
            ours_noted(&[], &[xen(XEN_ELFNOTE_HV_START_LOW, &0xF580_0000u32.to_le_bytes())]),
            Err(NotesError::HvStartLow { value: 0xF580_0000 })
        );
    }

    #[test]
    fn paddr_offset_needs_virt_base_and_must_not_exceed_physical_addresses() {
        assert_eq!(
            ours_noted(&[XEN_ELFNOTE_VIRT_BASE], &[]),
            Err(NotesError::PaddrOffsetWithoutVirtBase)
        );
        assert_eq!(
            ours_noted(
                &[XEN_ELFNOTE_PADDR_OFFSET],
                &[xen_u64(XEN_ELFNOTE_PADDR_OFFSET, KERNEL_BASE + 0x1000)]
            ),
            Err(NotesError::BelowPaddrOffset {
                index: 0,
                paddr: KERNEL_BASE,
                paddr_offset: KERNEL_BASE + 0x1000
            })
        );
        // Without PADDR_OFFSET (0), VIRT_BASE + p_paddr wraps.
        assert_eq!(
            ours_noted(&[XEN_ELFNOTE_PADDR_OFFSET], &[]),
            Err(NotesError::LoadAddressOverflow { index: 0 })
        );
    }

    #[test]
    fn the_entry_point_must_be_in_an_executable_segment() {
        for entry in [
            KERNEL_BASE - 1,
            KERNEL_BASE + 0x2000,
            KERNEL_BASE + 0x3000,
            KERNEL_BASE + 0x10_0000,
        ] {
            assert_eq!(
                ours_noted(&[XEN_ELFNOTE_ENTRY], &[xen_u64(XEN_ELFNOTE_ENTRY, entry)]),
                Err(NotesError::EntryOutsideCode { entry }),
                "{entry:#x}"
            );
        }
        let last = KERNEL_BASE + 0x1fff;
        assert_eq!(
            ours_noted(&[XEN_ELFNOTE_ENTRY], &[xen_u64(XEN_ELFNOTE_ENTRY, last)])
                .unwrap()
                .entry,
            last
        );
        // Without ENTRY, the ELF entry point counts.
        let mut bytes = mini_os().build();
        put64(&mut bytes, field::ENTRY, 0x3000);
        assert_eq!(notes_of(&bytes), Err(NotesError::EntryOutsideCode { entry: 0x3000 }));
    }

    #[test]
    fn the_hypercall_page_must_be_aligned_and_loaded() {
        let page = |address| {
            ours_noted(
                &[XEN_ELFNOTE_HYPERCALL_PAGE],
                &[xen_u64(XEN_ELFNOTE_HYPERCALL_PAGE, address)],
            )
        };
        assert_eq!(
            page(KERNEL_BASE + 0x1008),
            Err(NotesError::HypercallPageMisaligned {
                address: KERNEL_BASE + 0x1008
            })
        );
        // In the bss is fine; past the last segment is not.
        assert_eq!(
            page(KERNEL_BASE + 0x4000).unwrap().hypercall_page,
            Some(KERNEL_BASE + 0x4000)
        );
        assert_eq!(
            page(KERNEL_BASE + 0x5000),
            Err(NotesError::HypercallPageOutside {
                address: KERNEL_BASE + 0x5000
            })
        );
        assert_eq!(page(0), Err(NotesError::HypercallPageOutside { address: 0 }));
    }

    #[test]
    fn init_p2m_must_be_usable() {
        let p2m = |address| ours_noted(&[], &[xen_u64(XEN_ELFNOTE_INIT_P2M, address)]);
        assert_eq!(p2m(0x80_0000_0000).unwrap().init_p2m, Some(0x80_0000_0000));
        for (address, problem) in [
            (0x80_0000_0800, "is not page-aligned"),
            (0x8000_0000_0000, "is not canonical"),
            (0xFFFF_8300_0000_0000, "lies in the hypervisor's L4 slots 256-271"),
            (KERNEL_BASE + 0x1000, "lies inside the kernel"),
        ] {
            assert_eq!(p2m(address), Err(NotesError::BadInitP2m { address, problem }));
        }
    }

    /// A one-segment image at `base` whose notes say VIRT_BASE `virt_base`.
    fn placed_at(base: u64, size: u64, virt_base: u64) -> Result<GuestNotes<'static>, NotesError> {
        let notes = [
            xen_str(XEN_ELFNOTE_GUEST_OS, "placed"),
            xen_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0"),
            xen_str(XEN_ELFNOTE_LOADER, "generic"),
            xen_u64(XEN_ELFNOTE_VIRT_BASE, virt_base),
            xen_u64(XEN_ELFNOTE_PADDR_OFFSET, virt_base),
        ]
        .concat();
        let bytes = ElfBuilder::new(base)
            .load(RX, base, 0x10, size)
            .note_segment(notes)
            .build();
        notes_of(bytes.leak())
    }

    #[test]
    fn the_kernel_must_stay_out_of_the_hypervisors_slots() {
        let hole = 0xFFFF_8000_0000_0000u64;
        let after_hole = 0xFFFF_8800_0000_0000u64;
        // The hole starts where the canonical upper half does.
        for (base, size) in [
            (hole, 0x1000),
            (hole + 0x10_0000, 0x1000),
            (after_hole - 0x1000, 0x2000),
        ] {
            assert_eq!(
                placed_at(base, size, base),
                Err(NotesError::InHypervisorArea {
                    range: GuestRange::Kernel,
                    start: base,
                    end: base + size
                }),
                "{base:#x}"
            );
        }
        let notes = placed_at(after_hole, 0x1000, after_hole).unwrap();
        assert_eq!(notes.virt_kstart, after_hole);
        // The mapping from VIRT_BASE must stay out too.
        assert_eq!(
            placed_at(after_hole, 0x1000, after_hole - 0x1000),
            Err(NotesError::InHypervisorArea {
                range: GuestRange::InitialMapping,
                start: after_hole - 0x1000,
                end: after_hole + 0x1000
            })
        );
        // The constants agree with the layout's own test of an address.
        assert!(is_hypervisor_address(HYPERVISOR_AREA_START) && is_hypervisor_address(HYPERVISOR_AREA_END - 1));
        assert!(!is_hypervisor_address(HYPERVISOR_AREA_START - 1) && !is_hypervisor_address(HYPERVISOR_AREA_END));
    }

    #[test]
    fn the_kernel_must_be_canonical_and_below_the_top() {
        let top_half = 0x0000_8000_0000_0000u64;
        for (base, size) in [
            (top_half - 0x1000, 0x2000),
            (top_half, 0x1000),
            (0xFFFF_7FFF_FFFF_F000, 0x1000),
        ] {
            assert_eq!(
                placed_at(base, size, base),
                Err(NotesError::NotCanonical {
                    range: GuestRange::Kernel,
                    start: base,
                    end: base + size
                })
            );
        }
        // Low half up to its last page is fine; so is the top page but one.
        assert!(placed_at(top_half - 0x1000, 0x1000, top_half - 0x1000).is_ok());
        assert!(placed_at(u64::MAX - 0x1fff, 0x1000, u64::MAX - 0x1fff).is_ok());
        assert!(placed_at(0x3FFF_F000, 0x1000, 0).is_ok());
        // Ending exactly at 2^64 cannot be represented.
        assert!(matches!(
            ElfImage::parse(&ElfBuilder::new(0).load(RX, u64::MAX - 0xfff, 0x10, 0x1000).build()),
            Err(crate::domain::elf_image::ImageError::AddressOverflow { .. })
        ));
        assert_eq!(
            placed_at(0x4000_0000, 0x1000, 0),
            Err(NotesError::MappingTooLarge {
                virt_base: 0,
                end: 0x4000_1000
            })
        );
    }

    #[test]
    fn errors_read_as_one_line() {
        assert_eq!(
            NotesError::BadXenVersion(NoteText::new("xen-2.0")).to_string(),
            "guest image: XEN_VERSION is \"xen-2.0\"; it must start with \"xen-3.0\""
        );
        assert_eq!(
            NotesError::BadNumberSize {
                note_type: XEN_ELFNOTE_ENTRY,
                size: 3
            }
            .to_string(),
            "guest image: the ENTRY note holds a 3-byte number; numbers are 1, 2, 4 or 8 bytes"
        );
        assert_eq!(
            NotesError::InHypervisorArea {
                range: GuestRange::Kernel,
                start: 0xFFFF_8000_0000_0000,
                end: 0xFFFF_8000_0000_1000
            }
            .to_string(),
            "guest image: the kernel range [0xffff800000000000, 0xffff800000001000) overlaps the hypervisor's L4 \
             slots 256-271 [0xffff800000000000, 0xffff880000000000)"
        );
        // Hostile strings are cut and cannot break the line.
        let hostile = NoteText::new(&"a\n\"".repeat(40));
        let line = NotesError::WrongLoader(hostile).to_string();
        assert!(
            !line.contains('\n') && line.contains("\\n\\\"") && line.contains('…'),
            "{line}"
        );
        assert_eq!(
            NotesError::RepeatedNote(99).to_string(),
            "guest image: the type 99 note appears more than once"
        );
        let all = [
            NotesError::NoXenNotes,
            NotesError::PvhOnly,
            NotesError::MissingNote(XEN_ELFNOTE_LOADER),
            NotesError::NumberTooWide {
                note_type: XEN_ELFNOTE_PHYS32_ENTRY,
                value: 1 << 40,
            },
            NotesError::UnterminatedString(XEN_ELFNOTE_GUEST_OS),
            NotesError::NotUtf8(XEN_ELFNOTE_GUEST_OS),
            NotesError::UnknownRequiredFeature(NoteText::new("x")),
            NotesError::BadFeatureBitmap { size: 3 },
            NotesError::BadPaeMode(NoteText::new("no")),
            NotesError::HvStartLow { value: 1 },
            NotesError::PaddrOffsetWithoutVirtBase,
            NotesError::BelowPaddrOffset {
                index: 0,
                paddr: 1,
                paddr_offset: 2,
            },
            NotesError::LoadAddressOverflow { index: 1 },
            NotesError::NotCanonical {
                range: GuestRange::InitialMapping,
                start: 1,
                end: 2,
            },
            NotesError::MappingTooLarge { virt_base: 0, end: 1 },
            NotesError::EntryOutsideCode { entry: 1 },
            NotesError::HypercallPageMisaligned { address: 1 },
            NotesError::HypercallPageOutside { address: 1 },
            NotesError::BadInitP2m {
                address: 1,
                problem: "is not page-aligned",
            },
        ];
        for error in all {
            let line = error.to_string();
            assert!(line.starts_with("guest image: ") && !line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn the_example_guest_matches_readelf() {
        let Some(bytes) = example_guest() else {
            return;
        };
        let image = ElfImage::parse(&bytes).unwrap_or_else(|error| panic!("{error}"));
        let notes = GuestNotes::from_image(&image).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(notes.guest_os, "xen-core-guest");
        assert_eq!(notes.loader, Some("generic"));
        let Some(header) = readelf(&["-hW"]) else {
            return;
        };
        let entry = header
            .lines()
            .find_map(|line| line.trim().strip_prefix("Entry point address:"))
            .map(|value| u64::from_str_radix(value.trim().trim_start_matches("0x"), 16).unwrap())
            .unwrap();
        assert_eq!(notes.entry, entry);
        let symbols = readelf(&["-sW"]).unwrap();
        // `Num: Value Size Type Bind Vis Ndx Name`
        let hypercall_page = symbols
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .find(|fields| fields.last() == Some(&"hypercall_page"))
            .map(|fields| u64::from_str_radix(fields[1], 16).unwrap());
        assert_eq!(notes.hypercall_page, hypercall_page);
        assert!(notes.virt_kstart <= notes.entry && notes.entry < notes.virt_kend);
    }

    /// Checks what every accepted set of notes promises.
    fn check_accepted(bytes: &[u8]) {
        let Ok(image) = ElfImage::parse(bytes) else {
            return;
        };
        let Ok(notes) = GuestNotes::from_image(&image) else {
            return;
        };
        assert!(notes.xen_version.starts_with("xen-3.0"));
        assert!(!notes.guest_os.is_empty());
        assert!(notes.virt_base <= notes.virt_kstart && notes.virt_kstart < notes.virt_kend);
        assert!(notes.virt_kend - notes.virt_base <= MAX_IMAGE_BYTES);
        for address in [notes.virt_base, notes.virt_kstart, notes.virt_kend - 1, notes.entry] {
            assert!(is_canonical(address) && !is_hypervisor_address(address), "{address:#x}");
        }
        assert!(notes.virt_kstart <= notes.entry && notes.entry < notes.virt_kend);
        if let Some(page) = notes.hypercall_page {
            assert!(page.is_multiple_of(PAGE_SIZE) && notes.virt_kstart <= page && page < notes.virt_kend);
        }
        assert_eq!(notes.features.required & !notes.features.supported, 0);
    }

    /// An image with a random selection of well-formed and odd notes.
    fn any_notes() -> impl Strategy<Value = Vec<u8>> {
        let note = prop_oneof![
            (0u32..20, "[a-z0-9.!|-]{0,12}").prop_map(|(kind, text)| xen_str(kind, &text)),
            (0u32..20, any::<u64>()).prop_map(|(kind, value)| xen_u64(kind, value)),
            (0u32..20, proptest::collection::vec(any::<u8>(), 0..10)).prop_map(|(kind, bytes)| xen(kind, &bytes)),
            (0u32..20, 0..0x6000u64).prop_map(|(kind, offset)| xen_u64(kind, KERNEL_BASE + offset)),
        ];
        proptest::collection::vec(note, 0..10).prop_map(|notes| notes.concat())
    }

    proptest! {
        #[test]
        fn random_notes_never_panic(notes in any_notes(), base_notes in any::<bool>(), mini in any::<bool>()) {
            let notes = if base_notes { [our_notes_with(&[], &[]), notes].concat() } else { notes };
            let bytes = if mini { mini_os_with(notes).build() } else { ours_with(notes).build() };
            check_accepted(&bytes);
        }

        #[test]
        fn mutated_images_never_panic(
            mini in any::<bool>(),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        ) {
            let mut bytes = if mini { mini_os().build() } else { ours().build() };
            // Most of what the notes decide lies in the headers and the note bytes.
            let len = bytes.len();
            for (index, value) in flips {
                bytes[index % len] = value;
            }
            check_accepted(&bytes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
            check_accepted(&bytes);
        }

        #[test]
        fn valid_placements_are_accepted_anywhere_in_the_guest_space(
            page in 0u64..(1 << 36),
            pages in 1u64..64,
        ) {
            let base = l4_slot_base(0).wrapping_add(page << 12);
            let base = if base >= 0x0000_8000_0000_0000 { base | 0xFFFF_0000_0000_0000 } else { base };
            let end = base.wrapping_add(pages << 12);
            let fits = end > base
                && is_canonical(end - 1)
                && base >> 63 == (end - 1) >> 63
                && (end <= HYPERVISOR_AREA_START || base >= HYPERVISOR_AREA_END);
            let result = placed_at(base, pages << 12, base);
            prop_assert_eq!(result.is_ok(), fits, "{:#x}..{:#x}: {:?}", base, end, result);
        }
    }
}
