//! Attacks on the PV MMU, each refused with the right
//! errno and no change of state.

use super::*;
use crate::mm::PageType;
use crate::mm::pte_rules::USER;
use xen_abi::errno::Errno;

#[test]
fn a_writable_mapped_frame_cannot_become_a_page_table() {
    let mut m = Machine::pinned_tree();
    // DATA[0] is mapped writable: pinning it, or pointing an L2 entry at it
    // to use it as an L1, would give the guest a writable page table.
    for level in TableLevel::ALL {
        m.refused(Errno::EINVAL, |m| m.pin(DATA[0], level));
    }
    m.refused(Errno::EINVAL, |m| m.mod_entry(L2, 1, entry(DATA[0], PRESENT | RW)));
    m.refused(Errno::EINVAL, |m| {
        let mut base = None;
        m.table
            .new_baseptr(&mut m.memory, DOM, &mut base, DATA[0])
            .map(|_unused_switch| base.is_none())
    });
}

#[test]
fn a_page_table_cannot_be_mapped_writable() {
    let mut m = Machine::pinned_tree();
    for table in [L4, L3, L2, L1] {
        m.refused(Errno::EBUSY, |m| m.mod_entry(L1, 20, entry(table, PRESENT | RW)));
        // Read-only is fine: that is how guests see their tables.
        m.mod_entry(L1, 20, entry(table, PRESENT)).unwrap();
        m.mod_entry(L1, 20, 0).unwrap();
    }
    m.check();
}

#[test]
fn a_table_that_maps_itself_writable_fails_validation() {
    let mut m = Machine::new();
    m.write(SPARE, 0, entry(SPARE, PRESENT | RW));
    m.refused(Errno::EBUSY, |m| m.pin(SPARE, TableLevel::L1));
}

#[test]
fn rw_is_never_added_through_the_fast_path() {
    // XSA-182 at L1: a read-only mapping of a page table stays read-only.
    let mut m = Machine::pinned_tree();
    m.refused(Errno::EBUSY, |m| m.mod_entry(L1, 8, entry(L1, PRESENT | RW)));
    m.mod_entry(L1, 20, entry(L2, PRESENT)).unwrap();
    m.refused(Errno::EBUSY, |m| m.mod_entry(L1, 20, entry(L2, PRESENT | RW | USER)));
}

#[test]
fn linear_l4_entries_are_refused() {
    // XSA-182: a read-only self-map at L4 (later made writable) is refused at once.
    let mut m = Machine::pinned_tree();
    m.refused(Errno::EINVAL, |m| m.mod_entry(L4, 5, entry(L4, PRESENT)));
    m.refused(Errno::EINVAL, |m| m.mod_entry(L4, 5, entry(L4, PRESENT | RW)));
    // Nor in a table being validated.
    let mut m = Machine::new();
    m.write(SPARE, 3, entry(SPARE, PRESENT));
    m.refused(Errno::EINVAL, |m| m.pin(SPARE, TableLevel::L4));
}

#[test]
fn linear_entries_at_lower_levels_are_refused() {
    // XSA-185's 64-bit analogue and other recursive layouts.
    let mut m = Machine::pinned_tree();
    m.refused(Errno::EINVAL, |m| m.mod_entry(L3, 5, entry(L3, PRESENT)));
    m.refused(Errno::EINVAL, |m| m.mod_entry(L2, 5, entry(L2, PRESENT)));
    // Pointing at a table one level up or at the root is type confusion too.
    m.refused(Errno::EINVAL, |m| m.mod_entry(L2, 5, entry(L3, PRESENT)));
    m.refused(Errno::EINVAL, |m| m.mod_entry(L3, 5, entry(L4, PRESENT)));
}

#[test]
fn an_l2_entry_pointing_at_an_l2_is_refused() {
    let mut m = Machine::pinned_tree();
    let other_l2 = SPARE;
    m.pin(other_l2, TableLevel::L2).unwrap();
    m.refused(Errno::EINVAL, |m| m.mod_entry(L2, 5, entry(other_l2, PRESENT | RW)));
    // An L1 used as an L2 the other way round.
    m.refused(Errno::EINVAL, |m| m.mod_entry(L3, 5, entry(L1, PRESENT | RW)));
    // The same confusion inside a tree being validated.
    let mut m = Machine::new();
    m.write(SPARE, 0, entry(Mfn(21), PRESENT));
    m.pin(Mfn(21), TableLevel::L2).unwrap();
    m.refused(Errno::EINVAL, |m| m.pin(SPARE, TableLevel::L2));
}

#[test]
fn a_failure_deep_in_a_tree_undoes_everything() {
    let mut m = Machine::new();
    m.standard_tree();
    // Wider tree: a second L3 slot shares the L2, and the last L1 entry maps
    // a foreign frame: everything validated before it must be dropped again,
    // and no entry rewritten.
    m.write(L4, 7, entry(L3, PRESENT));
    m.write(L1, 100, entry(FOREIGN, PRESENT));
    // Non-present bits that name no memory are left alone.
    m.write(L4, 300, 0x000f_0000_0000_0f7e);
    m.refused(Errno::EBUSY, |m| m.pin(L4, TableLevel::L4));
    // Shared subtrees are fine once the foreign mapping goes.
    m.write(L1, 100, 0);
    m.pin(L4, TableLevel::L4).unwrap();
    assert_eq!(m.info(L3).type_count(), 2);
    m.check();
}

#[test]
fn a_table_used_at_two_levels_in_one_tree_is_refused() {
    let mut m = Machine::new();
    m.standard_tree();
    // The L1 is also reached as an L2 from L3 slot 1.
    m.write(L3, 1, entry(L1, PRESENT));
    m.refused(Errno::EINVAL, |m| m.pin(L4, TableLevel::L4));
}

#[test]
fn refcount_asymmetry_is_refused() {
    let mut m = Machine::pinned_tree();
    m.refused(Errno::EINVAL, |m| m.table.unpin(&mut m.memory, L3, DOM));
    m.refused(Errno::EINVAL, |m| m.pin(L4, TableLevel::L4));
    m.refused(Errno::EINVAL, |m| m.table.unpin(&mut m.memory, L4, OTHER));
    m.table.unpin(&mut m.memory, L4, DOM).unwrap();
    m.refused(Errno::EINVAL, |m| m.table.unpin(&mut m.memory, L4, DOM));
    // Clearing an already empty entry drops nothing.
    assert_eq!(m.info(DATA[0]).type_count(), 0);
}

#[test]
fn out_of_range_frames_never_index_the_table() {
    // XSA-167 style: huge frame numbers in every operation.
    let mut m = Machine::pinned_tree();
    for mfn in [Mfn(FRAMES), Mfn(1 << 40), Mfn(u64::MAX)] {
        m.refused(Errno::EINVAL, |m| m.pin(mfn, TableLevel::L1));
        m.refused(Errno::EINVAL, |m| m.table.unpin(&mut m.memory, mfn, DOM));
        m.refused(Errno::EINVAL, |m| m.mod_entry(mfn, 0, 0));
        m.refused(Errno::EINVAL, |m| m.table.assign(mfn, DOM));
        m.refused(Errno::EINVAL, |m| {
            let mut base = None;
            m.table
                .new_baseptr(&mut m.memory, DOM, &mut base, mfn)
                .map(|_unused_switch| base.is_none())
        });
    }
    assert_eq!(m.info(DATA[0]).page_type(), PageType::Writable);
}
