//! `update_va_mapping`: the walk to the L1, the validated edit, the flush.

use super::*;
use crate::mm::tlb_flush::TlbFlush;
use crate::mm::update_va_mapping::remap_va;
use xen_abi::errno::Errno;
use xen_abi::mmu::{UVMF_ALL, UVMF_INVLPG, UVMF_TLB_FLUSH};

/// Virtual address of L1 entry `index` in the standard tree (slot 0 all the way).
fn va(index: u64) -> u64 {
    index << 12
}

fn run(m: &mut Machine, args: [u64; 5]) -> Result<TlbFlush, Errno> {
    remap_va(&mut m.table, &mut m.memory, DOM, L4, args)
}

#[test]
fn the_entry_mapping_the_address_is_edited_and_the_flush_requested() {
    let mut m = Machine::pinned_tree();
    let result = run(&mut m, [va(20), entry(SPARE, PRESENT | RW), UVMF_INVLPG, 0, 0]);
    assert_eq!(result, Ok(TlbFlush::Page(va(20))));
    assert_eq!(entry_mfn_of(m.read(L1, 20)), SPARE);
    assert_eq!(
        run(&mut m, [va(20), 0, UVMF_TLB_FLUSH | UVMF_ALL, 0, 0]),
        Ok(TlbFlush::All)
    );
    assert_eq!(m.read(L1, 20), 0);
    m.check();
}

#[test]
fn a_refused_update_changes_nothing_and_flushes_nothing() {
    let mut m = Machine::pinned_tree();
    // Mapping the L2 writable through update_va_mapping: the isolation rule.
    m.refused(Errno::EBUSY, |m| {
        run(m, [va(20), entry(L2, PRESENT | RW), UVMF_INVLPG, 0, 0])
    });
    m.check();
}

#[test]
fn unmapped_hypervisor_and_non_canonical_addresses_have_no_l1_to_edit() {
    let mut m = Machine::pinned_tree();
    // Slot 1 of the L4 is empty.
    m.refused(Errno::EINVAL, |m| run(m, [1 << 39, 0, 0, 0, 0]));
    // The hypervisor's slots: never the guest's L1s.
    m.refused(Errno::EINVAL, |m| run(m, [0xFFFF_8000_0000_0000, 0, 0, 0, 0]));
    // Bits 48-63 would be ignored by the walk: refused before it.
    m.refused(Errno::EINVAL, |m| run(m, [0x1234_0000_0000_1000, 0, UVMF_INVLPG, 0, 0]));
    // A flush type that does not exist.
    m.refused(Errno::EINVAL, |m| run(m, [va(20), 0, 3, 0, 0]));
    m.check();
}

#[test]
fn the_base_must_be_the_callers_validated_l4() {
    let mut m = Machine::pinned_tree();
    let result = remap_va(&mut m.table, &mut m.memory, DOM, L3, [va(20), 0, 0, 0, 0]);
    assert_eq!(result, Err(Errno::EINVAL));
    let result = remap_va(&mut m.table, &mut m.memory, OTHER, L4, [va(20), 0, 0, 0, 0]);
    assert_eq!(result, Err(Errno::EINVAL));
    m.check();
}

fn entry_mfn_of(entry: u64) -> Mfn {
    Mfn((entry & 0x000f_ffff_ffff_f000) >> 12)
}
