//! Walking a guest's own page tables, as the CPU would.

use super::Mfn;
use crate::arch::PhysicalMemory;
use xen_abi::page_table_entry::{ADDRESS_MASK, PRESENT};

/// The frame the guest's tables under `l4` map at `address`, through
/// present entries (the guest's own view; a page table of it reaching a
/// foreign frame was refused when it was written).
pub fn guest_frame(memory: &impl PhysicalMemory, l4: Mfn, address: u64) -> Option<Mfn> {
    let mut table = l4;
    for level in (1..=4u32).rev() {
        let index = (address >> (12 + 9 * (level - 1))) & 511;
        let entry = memory.read_u64(table.address() + index * 8);
        if entry & PRESENT == 0 {
            return None;
        }
        table = Mfn::containing(entry & ADDRESS_MASK);
    }
    Some(table)
}
