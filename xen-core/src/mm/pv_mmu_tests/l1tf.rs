//! Non-present entries that name memory are refused (L1TF), by edits and by
//! validation alike, and the safe ones guests really write go through.

use super::*;
use crate::mm::pte_rules::PSE;
use xen_abi::errno::Errno;

/// A frame of RAM the guest does not own, its address in a non-present entry.
const LEAKY: u64 = FOREIGN.0 << 12;

#[test]
fn an_edit_to_a_non_present_entry_naming_memory_is_refused() {
    let mut m = Machine::pinned_tree();
    m.refused(Errno::EPERM, |m| m.mod_entry(L1, 20, LEAKY));
    m.refused(Errno::EPERM, |m| m.mod_entry(L1, 20, DATA[0].address() | RW));
    // A non-present superpage.
    m.refused(Errno::EPERM, |m| m.mod_entry(L2, 5, PSE));
    // Zero, bare flags and inverted addresses (Linux's swap entries) are fine.
    for safe in [0, RW | ACCESSED, !LEAKY & 0x000f_ffff_ffff_f000] {
        assert_eq!(m.mod_entry(L1, 20, safe), Ok(TableLevel::L1));
    }
    m.check();
}

#[test]
fn a_table_holding_a_non_present_entry_naming_memory_does_not_validate() {
    let mut m = Machine::new();
    m.standard_tree();
    m.write(L1, 30, LEAKY);
    m.refused(Errno::EPERM, |m| m.pin(L4, TableLevel::L4));
    m.refused(Errno::EPERM, |m| m.pin(L1, TableLevel::L1));
    m.write(L1, 30, 0);
    m.write(L2, 30, PSE);
    m.refused(Errno::EPERM, |m| m.pin(L2, TableLevel::L2));
    m.write(L2, 30, 0);
    assert_eq!(m.pin(L4, TableLevel::L4), Ok(()));
    m.check();
}
