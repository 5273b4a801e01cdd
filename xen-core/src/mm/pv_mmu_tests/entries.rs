//! Entry rules and editing one entry.

use super::*;
use crate::mm::PageType;
use crate::mm::pte_rules::{DIRTY, GLOBAL, GNTTAB, GUEST_KERNEL, INVALID_ENTRY_MFN, NX, PCD, PSE, PWT, USER};
use xen_abi::errno::Errno;

#[test]
fn pinning_installs_entries_in_user_form_and_fills_the_hypervisor_slots() {
    let m = Machine::pinned_tree();
    assert_eq!(m.read(L4, 0), entry(L3, PRESENT | RW | USER | ACCESSED));
    assert_eq!(m.read(L3, 0), entry(L2, PRESENT | RW | USER));
    assert_eq!(m.read(L1, 0), entry(DATA[0], PRESENT | RW | USER | GUEST_KERNEL));
    assert_eq!(m.read(L1, 8), entry(L1, PRESENT | USER | GUEST_KERNEL));
    for (offset, expected) in hypervisor_slots().iter().enumerate() {
        assert_eq!(m.read(L4, 256 + offset), *expected);
    }
}

#[test]
fn l1_entries_map_own_frames_and_rw_takes_a_writable_reference() {
    let mut m = Machine::pinned_tree();
    m.mod_entry(L1, 20, entry(SPARE, PRESENT | RW | USER)).unwrap();
    assert_eq!(m.read(L1, 20), entry(SPARE, PRESENT | RW | USER | GLOBAL));
    assert_eq!(m.info(SPARE).page_type(), PageType::Writable);
    assert_eq!(m.info(SPARE).count(), 2);
    m.check();
    // Read-only: a general reference only.
    m.mod_entry(L1, 20, entry(SPARE, PRESENT)).unwrap();
    assert_eq!((m.info(SPARE).count(), m.info(SPARE).type_count()), (2, 0));
    m.check();
    m.mod_entry(L1, 20, 0).unwrap();
    assert_eq!(m.info(SPARE).count(), 1);
    m.check();
}

#[test]
fn l1_entries_refuse_foreign_free_and_missing_frames() {
    let mut m = Machine::pinned_tree();
    m.refused(Errno::EBUSY, |m| m.mod_entry(L1, 20, entry(FOREIGN, PRESENT)));
    m.refused(Errno::EBUSY, |m| m.mod_entry(L1, 20, entry(FREE, PRESENT | RW)));
    // XSA-167 style: far beyond the frame table.
    m.refused(Errno::EPERM, |m| m.mod_entry(L1, 20, entry(Mfn(FRAMES), PRESENT)));
    m.refused(Errno::EPERM, |m| {
        m.mod_entry(L1, 20, entry(Mfn(0xff_ffff_fffe), PRESENT))
    });
    m.refused(Errno::EINVAL, |m| {
        m.mod_entry(L1, 20, entry(INVALID_ENTRY_MFN, PRESENT))
    });
}

#[test]
fn foreign_mappings_need_the_data_owner_named() {
    let mut m = Machine::pinned_tree();
    m.table
        .mod_entry(&mut m.memory, L1, 20, entry(FOREIGN, PRESENT | RW), DOM, OTHER)
        .unwrap();
    assert_eq!(m.info(FOREIGN).page_type(), PageType::Writable);
    m.check();
    // Upper levels never point at another domain's frames.
    m.refused(Errno::EINVAL, |m| {
        m.table
            .mod_entry(&mut m.memory, L2, 1, entry(FOREIGN, PRESENT), DOM, OTHER)
    });
    m.mod_entry(L1, 20, 0).unwrap();
    m.check();
}

#[test]
fn upper_entries_refuse_frames_outside_the_domain() {
    let mut m = Machine::pinned_tree();
    for target in [FOREIGN, FREE, Mfn(FRAMES), INVALID_ENTRY_MFN] {
        m.refused(Errno::EINVAL, |m| m.mod_entry(L2, 1, entry(target, PRESENT)));
        m.refused(Errno::EINVAL, |m| m.mod_entry(L3, 1, entry(target, PRESENT)));
        m.refused(Errno::EINVAL, |m| m.mod_entry(L4, 1, entry(target, PRESENT)));
    }
}

#[test]
fn disallowed_flags_are_refused_at_each_level() {
    let mut m = Machine::pinned_tree();
    for bit in [PSE, PWT, PCD, GNTTAB] {
        m.refused(Errno::EINVAL, |m| m.mod_entry(L1, 20, entry(SPARE, PRESENT | bit)));
    }
    for (table, target) in [(L2, SPARE), (L3, SPARE), (L4, SPARE)] {
        for bit in [PSE, PWT, PCD, GLOBAL] {
            m.refused(Errno::EINVAL, |m| m.mod_entry(table, 1, entry(target, PRESENT | bit)));
        }
    }
}

#[test]
fn allowed_flags_pass_at_each_level() {
    let mut m = Machine::pinned_tree();
    let flags = PRESENT | RW | USER | ACCESSED | DIRTY | NX | (0x7 << 9) | (0x3ff << 52);
    m.mod_entry(L1, 20, entry(SPARE, flags | GLOBAL)).unwrap();
    m.mod_entry(L1, 20, 0).unwrap();
    m.mod_entry(L2, 1, entry(SPARE, flags)).unwrap();
    assert_eq!(m.info(SPARE).page_type(), PageType::L1);
    m.check();
}

#[test]
fn hypervisor_l4_slots_are_never_guest_writable() {
    let mut m = Machine::pinned_tree();
    m.write(SPARE, 0, 0);
    for slot in [256, 260, 271] {
        m.refused(Errno::EINVAL, |m| m.mod_entry(L4, slot, entry(SPARE, PRESENT)));
        m.refused(Errno::EINVAL, |m| m.mod_entry(L4, slot, 0));
    }
    m.mod_entry(L4, 255, entry(SPARE, PRESENT)).unwrap();
    m.mod_entry(L4, 272, entry(SPARE, PRESENT)).unwrap();
    assert_eq!(m.info(SPARE).type_count(), 2);
    m.check();
}

#[test]
fn editing_needs_a_validated_table_of_the_owner_and_an_index_inside_it() {
    let mut m = Machine::pinned_tree();
    m.refused(Errno::EINVAL, |m| m.mod_entry(SPARE, 0, 0));
    m.refused(Errno::EINVAL, |m| m.mod_entry(Mfn(FRAMES + 5), 0, 0));
    m.refused(Errno::EINVAL, |m| m.mod_entry(L1, 512, 0));
    m.refused(Errno::EINVAL, |m| {
        m.table.mod_entry(&mut m.memory, L1, 0, 0, OTHER, OTHER)
    });
    m.refused(Errno::EINVAL, |m| {
        m.table.mod_entry(&mut m.memory, L2, 1, 0, DOM, OTHER)
    });
}

#[test]
fn a_new_upper_entry_validates_its_subtree_and_replacing_it_devalidates() {
    let mut m = Machine::pinned_tree();
    let (l2, l1, data) = (Mfn(21), Mfn(22), Mfn(23));
    m.write(l2, 7, entry(l1, PRESENT | RW));
    m.write(l1, 3, entry(data, PRESENT | RW));
    m.mod_entry(L3, 5, entry(l2, PRESENT | RW)).unwrap();
    assert_eq!(m.info(l2).page_type(), PageType::L2);
    assert_eq!(m.info(l1).page_type(), PageType::L1);
    assert_eq!(m.info(data).page_type(), PageType::Writable);
    assert_eq!(m.read(l1, 3), entry(data, PRESENT | RW | USER | GUEST_KERNEL));
    m.check();
    // Pointing the slot elsewhere drops the whole subtree.
    m.mod_entry(L3, 5, entry(L2, PRESENT | RW)).unwrap();
    for mfn in [l2, l1, data] {
        assert_eq!((m.info(mfn).count(), m.info(mfn).type_count()), (1, 0), "{mfn}");
    }
    assert_eq!(m.info(L2).type_count(), 2);
    m.check();
}

#[test]
fn the_fast_path_keeps_references_for_accessed_dirty_and_nx_changes() {
    let mut m = Machine::pinned_tree();
    let before = m.table.frames().to_vec();
    m.mod_entry(L1, 0, entry(DATA[0], PRESENT | RW | ACCESSED | DIRTY | NX))
        .unwrap();
    assert_eq!(
        m.read(L1, 0),
        entry(DATA[0], PRESENT | RW | USER | GUEST_KERNEL | ACCESSED | DIRTY | NX)
    );
    m.mod_entry(L2, 0, entry(L1, PRESENT | RW | ACCESSED)).unwrap();
    assert!(m.table.frames() == before.as_slice());
    m.check();
}

#[test]
fn dropping_rw_goes_through_the_references() {
    let mut m = Machine::pinned_tree();
    m.mod_entry(L1, 0, entry(DATA[0], PRESENT)).unwrap();
    assert_eq!(m.info(DATA[0]).type_count(), 0);
    m.check();
    // Now DATA[0] may become a page table.
    m.pin(DATA[0], TableLevel::L1).unwrap();
    m.check();
}

#[test]
fn failed_edits_keep_the_old_entry_and_its_references() {
    let mut m = Machine::pinned_tree();
    m.refused(Errno::EBUSY, |m| m.mod_entry(L1, 0, entry(FOREIGN, PRESENT | RW)));
    assert_eq!(m.info(DATA[0]).page_type(), PageType::Writable);
}
