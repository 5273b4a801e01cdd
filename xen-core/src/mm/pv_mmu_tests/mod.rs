//! Host tests of the PV MMU over the fake machine: the rules one by one, the
//! known attacks, and random operation sequences checked against the invariants.

mod attacks;
mod cost;
mod entries;
mod grants;
mod l1tf;
mod lifecycle;
mod mmu_update;
mod mmuext_op;
mod preemption;
mod refs;
mod sequences;
mod update_va_mapping;

use super::frame_info::FrameInfo;
use super::frame_table::FrameTable;
use super::pte_rules::{ACCESSED, HYPERVISOR_L4_SLOTS, PRESENT, RW, entry_address};
use super::{Mfn, TableLevel};
use crate::arch::PhysicalMemory;
use crate::arch::fake::FakeMemory;
use std::vec;
use std::vec::Vec;
use xen_abi::mmu::DomId;

/// The test guest.
pub(super) const DOM: DomId = 1;
/// Another guest.
pub(super) const OTHER: DomId = 2;
/// Frames of the fake machine.
pub(super) const FRAMES: u64 = 64;
/// The standard tree of [`Machine::standard_tree`].
pub(super) const L4: Mfn = Mfn(1);
pub(super) const L3: Mfn = Mfn(2);
pub(super) const L2: Mfn = Mfn(3);
pub(super) const L1: Mfn = Mfn(4);
/// Data frames mapped writable by the standard tree.
pub(super) const DATA: [Mfn; 4] = [Mfn(10), Mfn(11), Mfn(12), Mfn(13)];
/// A spare frame of [`DOM`].
pub(super) const SPARE: Mfn = Mfn(20);
/// A frame of [`OTHER`].
pub(super) const FOREIGN: Mfn = Mfn(40);
/// A free frame.
pub(super) const FREE: Mfn = Mfn(50);

/// The hypervisor's L4 slot entries the tests install.
pub(super) fn hypervisor_slots() -> [u64; HYPERVISOR_L4_SLOTS] {
    core::array::from_fn(|slot| (0x8000_0000 + ((slot as u64) << 12)) | PRESENT | RW | ACCESSED)
}

/// An entry pointing at `mfn` with `flags`.
pub(super) fn entry(mfn: Mfn, flags: u64) -> u64 {
    mfn.address() | flags
}

/// Table state and memory, for comparing before and after a refused operation.
pub(super) type Snapshot = (Vec<FrameInfo>, crate::arch::fake::FrameWords);

/// Whether `after` is `before` as far as a refused operation may change
/// it: the frame table the same, and memory the same but for entries a
/// failed validation accepted and rewrote in installed form (as Xen leaves
/// them).
pub(super) fn unchanged_but_installed(before: &Snapshot, after: &Snapshot) -> bool {
    use super::pte_rules::adjust_entry;
    before.0 == after.0
        && before.1.len() == after.1.len()
        && before.1.iter().zip(after.1.iter()).all(|((frame, old), (same, new))| {
            frame == same
                && old.iter().zip(new.iter()).all(|(&old, &new)| {
                    old == new || TableLevel::ALL.iter().any(|&level| adjust_entry(old, level) == new)
                })
        })
}

/// A frame table over a fake machine: frames 0..32 belong to [`DOM`],
/// 32..48 to [`OTHER`], the rest are free.
pub(super) struct Machine {
    pub table: FrameTable<'static>,
    pub memory: FakeMemory,
}

impl Machine {
    pub fn new() -> Self {
        let storage: &'static mut [FrameInfo] = vec![FrameInfo::FREE; FRAMES as usize].leak();
        let mut machine = Machine {
            table: FrameTable::new(storage, hypervisor_slots()),
            memory: FakeMemory::default(),
        };
        for mfn in 0..FRAMES {
            machine.memory.zero_frame(Mfn(mfn));
            let owner = match mfn {
                0..32 => DOM,
                32..48 => OTHER,
                _ => continue,
            };
            machine.table.assign(Mfn(mfn), owner).unwrap();
        }
        machine
    }

    /// Writes an entry directly, as the guest does while a frame is not a table.
    pub fn write(&mut self, table: Mfn, index: usize, value: u64) {
        self.memory.write_u64(entry_address(table, index), value);
    }

    /// Reads an entry.
    pub fn read(&self, table: Mfn, index: usize) -> u64 {
        self.memory.read_u64(entry_address(table, index))
    }

    /// L4 → L3 → L2 → L1 in slot 0 of each, the L1 mapping [`DATA`]
    /// writable and itself read-only, entries written as a guest writes them.
    pub fn standard_tree(&mut self) {
        self.write(L4, 0, entry(L3, PRESENT | RW));
        self.write(L3, 0, entry(L2, PRESENT | RW));
        self.write(L2, 0, entry(L1, PRESENT | RW));
        for (index, data) in DATA.iter().enumerate() {
            self.write(L1, index, entry(*data, PRESENT | RW));
        }
        self.write(L1, 8, entry(L1, PRESENT));
    }

    /// The standard tree, pinned as an L4.
    pub fn pinned_tree() -> Self {
        let mut machine = Machine::new();
        machine.standard_tree();
        machine.pin(L4, TableLevel::L4).unwrap();
        machine.check();
        machine
    }

    /// [`Machine::pinned_tree`] with the flush its validation asked for done,
    /// as the kernel would have done it before the guest ran again.
    pub fn pinned_tree_flushed() -> Self {
        let mut machine = Machine::pinned_tree();
        assert!(machine.table.take_flush_request());
        machine
    }

    pub fn pin(&mut self, mfn: Mfn, level: TableLevel) -> Result<(), xen_abi::errno::Errno> {
        self.table.pin(&mut self.memory, mfn, DOM, level)
    }

    pub fn mod_entry(&mut self, table: Mfn, index: usize, value: u64) -> Result<TableLevel, xen_abi::errno::Errno> {
        self.table.mod_entry(&mut self.memory, table, index, value, DOM, DOM)
    }

    pub fn snapshot(&self) -> Snapshot {
        (self.table.frames().to_vec(), self.memory.snapshot())
    }

    /// Panics with the violation if an invariant is broken.
    pub fn check(&self) {
        if let Err(violation) = self.table.check_invariants(&self.memory) {
            panic!("invariant broken: {violation}");
        }
    }

    pub fn info(&self, mfn: Mfn) -> FrameInfo {
        *self.table.frame(mfn).unwrap()
    }

    /// Asserts that `operation` fails with `errno` and changes nothing.
    #[track_caller]
    pub fn refused<T: core::fmt::Debug>(
        &mut self,
        errno: xen_abi::errno::Errno,
        operation: impl FnOnce(&mut Machine) -> Result<T, xen_abi::errno::Errno>,
    ) {
        let before = self.snapshot();
        let result = operation(self);
        assert_eq!(result.map(|_| ()).unwrap_err(), errno);
        assert!(
            unchanged_but_installed(&before, &self.snapshot()),
            "a refused operation changed state"
        );
        self.check();
    }
}
