//! Where the notes place the kernel: by physical address, with the entry point,
//! hypercall page and p2m inside the guest's part of the address space.

use super::test_notes::*;
use super::*;
use crate::domain::elf_image::test_elf::*;
use crate::mm::layout::is_hypervisor_address;

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
