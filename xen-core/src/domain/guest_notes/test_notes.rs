//! Test support: images like ours with notes removed or added, and one-segment
//! images placed anywhere, read into [`GuestNotes`].

use super::*;
use crate::domain::elf_image::test_elf::*;
use std::vec::Vec;

/// The notes of the image in `bytes`, which must parse.
pub(super) fn notes_of(bytes: &[u8]) -> Result<GuestNotes<'_>, NotesError> {
    GuestNotes::from_image(&ElfImage::parse(bytes).unwrap())
}

/// Our notes with `replace`'s types removed and `extra` appended.
pub(super) fn our_notes_with(remove: &[u32], extra: &[Vec<u8>]) -> Vec<u8> {
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
pub(super) fn ours_noted(remove: &[u32], extra: &[Vec<u8>]) -> Result<GuestNotes<'static>, NotesError> {
    let bytes = ours_with(our_notes_with(remove, extra)).build().leak();
    notes_of(bytes)
}

/// A one-segment image at `base` whose notes say VIRT_BASE `virt_base`.
pub(super) fn placed_at(base: u64, size: u64, virt_base: u64) -> Result<GuestNotes<'static>, NotesError> {
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
