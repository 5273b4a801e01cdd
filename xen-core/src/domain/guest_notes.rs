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
//!
//! Reading each note by its type is in `found_notes`, the reasons for refusing in
//! `notes_error`, and the guest strings those reasons quote in `note_text`. What
//! they share with this file is in files of its own, so that none of them imports
//! from this file: the declared features in `features`, the hypervisor's area in
//! `hypervisor_area`, and what XEN_VERSION and LOADER must say in
//! `guest_requirements`.

use crate::domain::elf_image::{ElfImage, LoadSegment, MAX_IMAGE_BYTES, SegmentFlags};
use crate::mm::layout::is_canonical;
use crate::mm::mfn::PAGE_SIZE;
use found_notes::Found;
use guest_requirements::{GENERIC_LOADER, LINUX, XEN_VERSION_PREFIX};
use hypervisor_area::{HYPERVISOR_AREA_END, HYPERVISOR_AREA_START};
use xen_abi::elfnote::*;

mod features;
mod found_notes;
mod guest_requirements;
mod hypervisor_area;
mod note_text;
mod notes_error;

pub use features::Features;
pub use note_text::NoteText;
pub use notes_error::{GuestRange, NotesError};

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

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod placement_tests;
#[cfg(test)]
mod test_notes;
#[cfg(test)]
mod tests;
