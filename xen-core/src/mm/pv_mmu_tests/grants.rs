//! Grant mappings: the entry `map_grant_ref` writes, the references it
//! holds, and who may remove it.

use super::*;
use crate::mm::grant_mapping::GrantMapping;
use crate::mm::pte_rules::{GNTTAB, entry_mfn};
use xen_abi::errno::Errno;

/// Virtual address of L1 entry `index` in the standard tree.
fn va(index: u64) -> u64 {
    index << 12
}

fn mapping(index: u64, frame: Mfn, writable: bool) -> GrantMapping {
    GrantMapping {
        guest_avail: 0,
        va: va(index),
        frame,
        granter: OTHER,
        writable,
    }
}

fn map(m: &mut Machine, mapping: &GrantMapping) -> Result<(), Errno> {
    m.table.map_grant(&mut m.memory, DOM, L4, mapping)
}

fn unmap(m: &mut Machine, mapping: &GrantMapping) -> Result<(), Errno> {
    m.table.unmap_grant(&mut m.memory, DOM, L4, mapping)
}

#[test]
fn a_writable_grant_mapping_holds_a_writable_reference_until_unmapped() {
    let mut m = Machine::pinned_tree();
    let before = m.info(FOREIGN);
    let grant = mapping(20, FOREIGN, true);
    map(&mut m, &grant).unwrap();
    let written = m.read(L1, 20);
    assert_eq!(entry_mfn(written), FOREIGN);
    assert_ne!(written & GNTTAB, 0, "marked as a grant mapping");
    assert_ne!(written & RW, 0);
    assert_eq!(m.info(FOREIGN).count, before.count + 1);
    assert_eq!(m.info(FOREIGN).type_count, 1);
    m.check();
    unmap(&mut m, &grant).unwrap();
    assert_eq!(m.read(L1, 20), 0);
    assert_eq!(m.info(FOREIGN), before, "exactly what the map took is given back");
    m.check();
}

#[test]
fn a_read_only_grant_mapping_is_not_writable_and_takes_no_type() {
    let mut m = Machine::pinned_tree();
    let grant = mapping(20, FOREIGN, false);
    map(&mut m, &grant).unwrap();
    assert_eq!(m.read(L1, 20) & RW, 0);
    assert_eq!(m.info(FOREIGN).type_count, 0);
    // Unmapping it as if it were writable does not match: refused.
    m.refused(Errno::EINVAL, |m| unmap(m, &mapping(20, FOREIGN, true)));
    unmap(&mut m, &grant).unwrap();
    m.check();
}

#[test]
fn the_guest_cannot_edit_or_unmark_a_grant_mapping_itself() {
    let mut m = Machine::pinned_tree();
    let grant = mapping(20, FOREIGN, true);
    map(&mut m, &grant).unwrap();
    let written = m.read(L1, 20);
    // Dropping it, pointing it elsewhere, or clearing the grant bit (which
    // would otherwise be a fast-path change of an available bit).
    m.refused(Errno::EINVAL, |m| m.mod_entry(L1, 20, 0));
    m.refused(Errno::EINVAL, |m| m.mod_entry(L1, 20, entry(SPARE, PRESENT)));
    m.refused(Errno::EINVAL, |m| m.mod_entry(L1, 20, written & !GNTTAB));
    // Nor can it write one: the grant bit is disallowed in guest entries.
    m.refused(Errno::EINVAL, |m| m.mod_entry(L1, 21, entry(SPARE, PRESENT | GNTTAB)));
    unmap(&mut m, &grant).unwrap();
    m.check();
}

#[test]
fn unmap_checks_the_frame_and_address_it_was_made_for() {
    let mut m = Machine::pinned_tree();
    let grant = mapping(20, FOREIGN, true);
    map(&mut m, &grant).unwrap();
    m.refused(Errno::EINVAL, |m| unmap(m, &mapping(20, Mfn(41), true)));
    m.refused(Errno::EINVAL, |m| unmap(m, &mapping(21, FOREIGN, true)));
    // Mapping a second grant over the first is refused too.
    m.refused(Errno::EINVAL, |m| map(m, &mapping(20, Mfn(41), false)));
    unmap(&mut m, &grant).unwrap();
    m.refused(Errno::EINVAL, |m| unmap(m, &grant));
}

#[test]
fn frames_that_are_not_the_granters_or_are_page_tables_are_refused() {
    let mut m = Machine::pinned_tree();
    // A frame of DOM itself, claimed to be OTHER's; a free frame.
    m.refused(Errno::EBUSY, |m| map(m, &mapping(20, SPARE, false)));
    m.refused(Errno::EBUSY, |m| map(m, &mapping(20, FREE, false)));
    // OTHER's frame pinned as its L1 table: readable, but never writable.
    m.table.pin(&mut m.memory, Mfn(42), OTHER, TableLevel::L1).unwrap();
    m.refused(Errno::EBUSY, |m| map(m, &mapping(20, Mfn(42), true)));
    let read_only = mapping(20, Mfn(42), false);
    map(&mut m, &read_only).unwrap();
    unmap(&mut m, &read_only).unwrap();
    m.check();
}

#[test]
fn a_grant_mapping_dropped_with_its_tables_is_counted() {
    let mut m = Machine::pinned_tree();
    let before = m.info(FOREIGN);
    map(&mut m, &mapping(20, FOREIGN, true)).unwrap();
    assert_eq!(m.table.take_implicit_grant_unmaps(), 0);
    m.table.unpin(&mut m.memory, L4, DOM).unwrap();
    assert_eq!(m.table.take_implicit_grant_unmaps(), 1);
    assert_eq!(m.table.take_implicit_grant_unmaps(), 0, "taking clears it");
    assert_eq!(m.info(FOREIGN), before, "its references went with the table");
    m.check();
}
