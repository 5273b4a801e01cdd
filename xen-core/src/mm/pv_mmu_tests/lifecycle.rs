//! Pins, base pointers, teardown and the invariant checker.

use super::*;
use crate::mm::pte_rules::{DIRTY, GUEST_KERNEL, USER};
use crate::mm::{BaseSwitch, PageType};
use xen_abi::errno::Errno;

#[test]
fn pinning_validates_the_tree_and_unpinning_devalidates_it() {
    let mut m = Machine::pinned_tree();
    for (mfn, page_type) in [
        (L4, PageType::L4),
        (L3, PageType::L3),
        (L2, PageType::L2),
        (L1, PageType::L1),
    ] {
        assert_eq!(m.info(mfn).page_type(), page_type);
        assert!(m.info(mfn).is_validated());
    }
    assert!(m.info(L4).is_pinned());
    // L1 is referenced by the L2 entry and mapped read-only by itself.
    assert_eq!((m.info(L1).count(), m.info(L1).type_count()), (3, 1));
    m.table.unpin(&mut m.memory, L4, DOM).unwrap();
    for mfn in [L4, L3, L2, L1, DATA[0], DATA[3]] {
        assert_eq!(
            m.info(mfn),
            FrameInfo {
                owner: Some(DOM),
                count: 1,
                allocated: true,
                ..FrameInfo::FREE
            }
        );
    }
    // The hypervisor's entries stay, as in Xen: the L4 may still be in CR3
    // when its last reference goes (the new base is loaded afterwards), and
    // clearing them would pull the hypervisor out from under itself. Typing
    // the frame as L1-L3 later validates them like any guest entry.
    assert_eq!(m.read(L4, 256), hypervisor_slots()[0]);
    m.check();
}

#[test]
fn pins_keep_subtrees_validated_and_do_not_nest() {
    let mut m = Machine::pinned_tree();
    m.pin(L1, TableLevel::L1).unwrap();
    m.refused(Errno::EINVAL, |m| m.pin(L1, TableLevel::L1));
    m.refused(Errno::EINVAL, |m| m.pin(L2, TableLevel::L1));
    m.table.unpin(&mut m.memory, L4, DOM).unwrap();
    assert_eq!(m.info(L1).page_type(), PageType::L1);
    assert_eq!(m.info(DATA[0]).page_type(), PageType::Writable);
    assert_eq!(m.info(L2).type_count(), 0);
    m.check();
    m.table.unpin(&mut m.memory, L1, DOM).unwrap();
    assert_eq!(m.info(DATA[0]).type_count(), 0);
    m.check();
}

#[test]
fn pinning_refuses_another_domains_frame() {
    let mut m = Machine::new();
    m.refused(Errno::EINVAL, |m| m.pin(FOREIGN, TableLevel::L1));
    m.refused(Errno::EINVAL, |m| m.pin(FREE, TableLevel::L1));
}

#[test]
fn new_baseptr_takes_the_new_base_and_drops_the_old() {
    let mut m = Machine::new();
    m.standard_tree();
    let mut base = None;
    let first = m.table.new_baseptr(&mut m.memory, DOM, &mut base, L4).unwrap();
    assert_eq!(first, BaseSwitch::Switched { old: None });
    assert_eq!(m.info(L4).type_count(), 1);
    assert_eq!(m.info(DATA[0]).page_type(), PageType::Writable);
    m.check();
    // The same base again changes nothing.
    let before = m.snapshot();
    let again = m.table.new_baseptr(&mut m.memory, DOM, &mut base, L4).unwrap();
    assert_eq!(again, BaseSwitch::Unchanged);
    assert!(m.snapshot() == before);
    // A second L4 sharing the L3.
    let second = SPARE;
    m.write(second, 0, entry(L3, PRESENT | RW));
    let BaseSwitch::Switched { old: Some(old) } = m.table.new_baseptr(&mut m.memory, DOM, &mut base, second).unwrap()
    else {
        panic!("the old base's references come back");
    };
    assert_eq!(base.as_ref().map(|typed| typed.mfn()), Some(second));
    // The CPU may still walk the old L4: it keeps its type until the
    // caller, having loaded the new base, puts it.
    assert_eq!(old.mfn(), L4);
    assert_eq!(m.info(L4).type_count(), 1);
    m.check();
    m.table.put_page_and_type(&mut m.memory, old);
    assert_eq!(m.info(L4).type_count(), 0);
    assert_eq!(m.info(L3).type_count(), 1);
    m.check();
    let old = base.take().unwrap();
    m.table.put_page_and_type(&mut m.memory, old);
    m.check();
}

#[test]
fn new_baseptr_refuses_what_cannot_be_this_domains_l4() {
    let mut m = Machine::pinned_tree();
    let mut base = None;
    let first = m.table.new_baseptr(&mut m.memory, DOM, &mut base, L4).unwrap();
    assert_eq!(first, BaseSwitch::Switched { old: None });
    for (owner, mfn) in [(DOM, FOREIGN), (DOM, FREE), (DOM, L3), (DOM, DATA[1]), (OTHER, SPARE)] {
        m.refused(Errno::EINVAL, |m| {
            m.table
                .new_baseptr(&mut m.memory, owner, &mut base, mfn)
                .map(|_unused_switch| 0)
        });
        assert_eq!(base.as_ref().map(|typed| typed.mfn()), Some(L4));
    }
    let old = base.take().unwrap();
    m.table.put_page_and_type(&mut m.memory, old);
}

#[test]
fn destroying_a_domain_frees_every_frame() {
    let mut m = Machine::pinned_tree();
    m.pin(L1, TableLevel::L1).unwrap();
    let mut base = None;
    m.write(SPARE, 1, entry(L3, PRESENT));
    let first = m.table.new_baseptr(&mut m.memory, DOM, &mut base, SPARE).unwrap();
    assert_eq!(first, BaseSwitch::Switched { old: None });
    if let Some(old) = base.take() {
        m.table.put_page_and_type(&mut m.memory, old);
    }
    let teardown = m.table.relinquish_all(&mut m.memory, DOM, &mut |_| ());
    assert_eq!((teardown.freed, teardown.still_referenced), (32, 0));
    for mfn in 0..32 {
        assert!(m.info(Mfn(mfn)).is_free(), "frame {mfn}");
    }
    assert_eq!(m.info(FOREIGN).count(), 1, "other domains are untouched");
    m.check();
}

#[test]
fn a_foreign_mapping_keeps_a_dead_domains_frame_until_it_goes() {
    let mut m = Machine::pinned_tree();
    m.table
        .mod_entry(&mut m.memory, L1, 20, entry(FOREIGN, PRESENT | RW), DOM, OTHER)
        .unwrap();
    let teardown = m.table.relinquish_all(&mut m.memory, OTHER, &mut |_| ());
    assert_eq!((teardown.freed, teardown.still_referenced), (15, 1));
    m.check();
    m.mod_entry(L1, 20, 0).unwrap();
    assert!(m.info(FOREIGN).is_free());
    m.check();
}

#[test]
fn a_tree_shaped_like_the_builders_validates() {
    // The domain builder writes L1 entries PRESENT|RW|ACCESSED|USER|bit 52
    // (no RW for table frames) and upper entries PRESENT|RW|ACCESSED|DIRTY|USER,
    // copies the hypervisor slots, then pins the L4 and loads it.
    let mut m = Machine::new();
    let l1_flags = PRESENT | RW | ACCESSED | USER | GUEST_KERNEL;
    let table_flags = PRESENT | RW | ACCESSED | DIRTY | USER;
    m.write(L4, 511, entry(L3, table_flags));
    m.write(L3, 510, entry(L2, table_flags));
    m.write(L2, 0, entry(L1, table_flags));
    for (index, mfn) in (0..32).map(Mfn).enumerate() {
        let tables = [L4, L3, L2, L1];
        let flags = if tables.contains(&mfn) {
            l1_flags & !RW
        } else {
            l1_flags
        };
        m.write(L1, index, entry(mfn, flags));
    }
    for (offset, slot) in hypervisor_slots().iter().enumerate() {
        m.write(L4, 256 + offset, *slot);
    }
    let before = m.memory.snapshot();
    m.pin(L4, TableLevel::L4).unwrap();
    let mut base = None;
    let first = m.table.new_baseptr(&mut m.memory, DOM, &mut base, L4).unwrap();
    assert_eq!(first, BaseSwitch::Switched { old: None });
    m.check();
    assert!(
        m.memory.snapshot() == before,
        "the builder's entries are already in installed form"
    );
    let base = base.take().unwrap();
    m.table.put_page_and_type(&mut m.memory, base);
    m.table.unpin(&mut m.memory, L4, DOM).unwrap();
    m.check();
}

#[test]
fn the_checker_catches_a_writable_page_table() {
    let mut m = Machine::pinned_tree();
    // Behind the table's back, as a bug would: an RW entry to the L2.
    m.write(L1, 30, entry(L2, PRESENT | RW | USER | crate::mm::pte_rules::GLOBAL));
    let violation = m.table.check_invariants(&m.memory).unwrap_err();
    assert_eq!(violation.mfn, L1);
}

#[test]
fn the_checker_catches_a_count_that_does_not_add_up() {
    let mut m = Machine::pinned_tree();
    m.table.frame_mut(DATA[2]).unwrap().count += 1;
    let violation = m.table.check_invariants(&m.memory).unwrap_err();
    assert_eq!(violation.mfn, DATA[2]);
    m.table.frame_mut(DATA[2]).unwrap().count -= 1;
    m.table.frame_mut(L2).unwrap().type_count += 1;
    assert_eq!(m.table.check_invariants(&m.memory).unwrap_err().mfn, L2);
}

#[test]
fn the_checker_catches_a_hypervisor_slot_changed() {
    let mut m = Machine::pinned_tree();
    m.write(L4, 262, 0);
    assert_eq!(m.table.check_invariants(&m.memory).unwrap_err().mfn, L4);
}

#[test]
fn a_former_l4_cannot_smuggle_hypervisor_entries_in_as_a_lower_level_table() {
    let mut m = Machine::pinned_tree();
    m.table.unpin(&mut m.memory, L4, DOM).unwrap();
    assert_eq!(m.read(L4, 256), hypervisor_slots()[0], "kept for a possibly loaded CR3");
    // As an L3, slot 256 would be a guest entry pointing at a hypervisor
    // table: not a frame of the domain, so the whole pin is refused.
    m.refused(xen_abi::errno::Errno::EINVAL, |m| m.pin(L4, TableLevel::L3));
    // The refused validation left the entries it accepted in installed form
    // for the levels it tried (as Xen does): the guest writes its tree again.
    m.standard_tree();
    // As an L4 again, the slots are simply the hypervisor's.
    m.pin(L4, TableLevel::L4).unwrap();
    m.check();
}
