//! The Xen notes as found in an image, before defaults and checks: each note read
//! by its type, numbers and strings decoded, repeats and unknown required features
//! refused.

use crate::domain::elf_image::XenNote;
use crate::domain::guest_notes::features::Features;
use crate::domain::guest_notes::hypervisor_area::HYPERVISOR_AREA_START;
use crate::domain::guest_notes::note_text::NoteText;
use crate::domain::guest_notes::notes_error::{NotesError, note_name};
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

/// The notes as found, before defaults and checks.
#[derive(Default)]
pub(super) struct Found<'a> {
    pub(super) count: usize,
    /// Bit n set once a note of type n (< 32) has been read, to refuse repeats.
    pub(super) seen: u32,
    pub(super) guest_os: Option<&'a str>,
    pub(super) guest_version: Option<&'a str>,
    pub(super) xen_version: Option<&'a str>,
    pub(super) loader: Option<&'a str>,
    pub(super) features: Features,
    pub(super) virt_base: Option<u64>,
    pub(super) paddr_offset: Option<u64>,
    pub(super) entry: Option<u64>,
    pub(super) hypercall_page: Option<u64>,
    pub(super) init_p2m: Option<u64>,
    pub(super) mod_start_pfn: bool,
    pub(super) suspend_cancel: bool,
    pub(super) bsd_symtab: bool,
    pub(super) phys32_entry: Option<u32>,
}

impl<'a> Found<'a> {
    /// Records one Xen note.
    pub(super) fn read(&mut self, note: XenNote<'a>) -> Result<(), NotesError> {
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

/// A string descriptor: UTF-8 up to a NUL, or the whole descriptor. Linux
/// writes its FEATURES note with `.ascii`, no NUL inside; Xen reads on to
/// the first NUL after it, which the note's padding (or the next note's
/// header) supplies, so nothing a guest means is lost by stopping at the
/// descriptor's end.
fn string(note: XenNote<'_>) -> Result<&str, NotesError> {
    let note_type = note.note_type;
    let end = note
        .descriptor
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(note.descriptor.len());
    let bytes = note.descriptor.get(..end).unwrap_or_default();
    core::str::from_utf8(bytes).map_err(|_| NotesError::NotUtf8(note_type))
}
