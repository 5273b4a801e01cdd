//! What the notes say, read as libelf reads them: defaults, numbers and strings,
//! the required notes, features and the notes meant for 32-bit guests.

use super::test_notes::*;
use super::*;
use crate::domain::elf_image::test_elf::*;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

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
fn strings_end_at_a_nul_or_the_descriptor_and_must_be_utf8() {
    // Linux's FEATURES note has no NUL inside (`.ascii`): accepted, as Xen
    // accepts it, its required feature read.
    let notes = ours_noted(
        &[],
        &[xen(XEN_ELFNOTE_FEATURES, b"!writable_page_tables|pae_pgdir_above_4gb")],
    )
    .unwrap();
    assert_ne!(notes.features.required, 0, "!writable_page_tables is required");
    let notes = ours_noted(&[XEN_ELFNOTE_GUEST_OS], &[xen(XEN_ELFNOTE_GUEST_OS, b"abcd")]).unwrap();
    assert_eq!(notes.guest_os, "abcd");
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
