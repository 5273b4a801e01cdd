//! The cost bound of validation: each table is scanned once per operation,
//! however many entries point at it, and no recursion follows the guest's
//! structure.

use super::*;
use crate::mm::PageType;
use core::cell::Cell;

/// Physical memory that counts entry reads.
struct CountingMemory<'m> {
    inner: &'m mut FakeMemory,
    reads: Cell<u64>,
}

impl PhysicalMemory for CountingMemory<'_> {
    fn read_u64(&self, address: u64) -> u64 {
        self.reads.set(self.reads.get() + 1);
        self.inner.read_u64(address)
    }

    fn write_u64(&mut self, address: u64, value: u64) {
        self.inner.write_u64(address, value);
    }

    fn zero_frame(&mut self, mfn: Mfn) {
        self.inner.zero_frame(mfn);
    }
}

#[test]
fn a_fully_shared_tree_is_scanned_once_per_table() {
    // Every guest L4 slot points at the same L3, every L3 slot at the same L2,
    // every L2 slot at the same L1, every L1 slot at the same data frame: 512^3
    // paths through four tables.
    let mut m = Machine::new();
    for index in (0..512).filter(|index| !(256..272).contains(index)) {
        m.write(L4, index, entry(L3, PRESENT | RW));
    }
    for index in 0..512 {
        m.write(L3, index, entry(L2, PRESENT | RW));
        m.write(L2, index, entry(L1, PRESENT | RW));
        m.write(L1, index, entry(DATA[0], PRESENT | RW));
    }
    let mut memory = CountingMemory {
        inner: &mut m.memory,
        reads: Cell::new(0),
    };
    m.table.pin(&mut memory, L4, DOM, TableLevel::L4).unwrap();
    // One scan per table, entries installed as they are accepted.
    assert_eq!(memory.reads.get(), 4 * 512);
    memory.reads.set(0);
    m.table.unpin(&mut memory, L4, DOM).unwrap();
    assert_eq!(memory.reads.get(), 4 * 512);
    assert_eq!(m.info(L3).type_count(), 0);
    m.check();

    m.pin(L4, TableLevel::L4).unwrap();
    assert_eq!(m.info(L3).type_count(), 496);
    assert_eq!(m.info(L1).type_count(), 512);
    assert_eq!(
        (m.info(DATA[0]).page_type(), m.info(DATA[0]).type_count()),
        (PageType::Writable, 512)
    );
    m.check();
}
