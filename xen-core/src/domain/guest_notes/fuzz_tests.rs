//! Random notes, mutated images and arbitrary bytes never make the reader panic,
//! and what it accepts keeps its promises.

use super::hypervisor_area::l4_slot_base;
use super::test_notes::*;
use super::*;
use crate::domain::elf_image::test_elf::*;
use crate::mm::layout::is_hypervisor_address;
use proptest::prelude::*;
use std::vec::Vec;

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
