//! Frames changing hands through `memory_op`: a domain giving a frame up
//! (`decrease_reservation`, Xen's `guest_remove_page`) and a frame taken
//! back whole for an exchange (Xen's `steal_page`). New frames come in
//! through [`FrameTable::assign`].

use super::Mfn;
use super::budget::Budget;
use super::frame_table::FrameTable;
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

impl FrameTable<'_> {
    /// `owner` gives frame `mfn` up: its allocation reference goes. The
    /// frame stays the owner's, and counted, while anything still refers to
    /// it (a mapping, a page-table use, a pin, a grant mapping), and is freed
    /// with the last reference (queued then, see
    /// [`FrameTable::take_freed_orphans`]). A frame given up already but
    /// still referenced is given up again without error, as on Xen.
    /// -EINVAL beyond the table; -ENXIO if it is not a frame of `owner` (a
    /// hypervisor page shared with it is not).
    /// Whether it became free now (the caller gives it to the allocator).
    pub fn give_up<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        mfn: Mfn,
        owner: DomId,
        budget: &mut Budget,
    ) -> Result<bool, Errno> {
        let frame = self.frame_mut(mfn).ok_or(Errno::EINVAL)?;
        if frame.owner != Some(owner) || frame.count == 0 || frame.shared_xen_page {
            return Err(Errno::ENXIO);
        }
        if !frame.allocated {
            return Ok(false);
        }
        if frame.pinned {
            // As Xen's `guest_remove_page`: the pin goes first (only an
            // allocated frame can be unpinned, or pinned again). Its tree's
            // release goes on within `budget` and, past it, before the
            // owner's next page-table request.
            self.unpin_within(memory, mfn, owner, budget)?;
        }
        let Some(frame) = self.frame_mut(mfn) else {
            return Ok(false);
        };
        if frame.is_free() || !frame.allocated {
            // The unpin dropped its last reference but the allocation's:
            // cannot be, the allocation reference is still held.
            return Ok(false);
        }
        frame.allocated = false;
        // The allocation reference is a general one. Dropping the last frees
        // the frame, given up (owned, not allocated) when it went: the caller
        // hands it back itself, nothing queues it.
        self.release_general(mfn)
    }

    /// Whether `owner` holds `mfn` with nothing but its allocation
    /// reference: no mapping, type, pin or handle. Only such a frame can be
    /// exchanged (Xen's `steal_page`).
    pub fn is_held_only_by_allocation(&self, mfn: Mfn, owner: DomId) -> bool {
        self.frame(mfn).is_some_and(|frame| {
            frame.owner == Some(owner) && frame.allocated && frame.count == 1 && !frame.shared_xen_page
        })
    }

    /// Takes `mfn` back from `owner` for an exchange: it must be held only by
    /// its allocation ([`FrameTable::is_held_only_by_allocation`]), and is
    /// free afterwards, for the caller to give to the allocator. -EINVAL
    /// otherwise, with nothing changed.
    pub fn take_back(&mut self, mfn: Mfn, owner: DomId) -> Result<(), Errno> {
        if !self.is_held_only_by_allocation(mfn, owner) {
            return Err(Errno::EINVAL);
        }
        if let Some(frame) = self.frame_mut(mfn) {
            frame.allocated = false;
        }
        self.release_general(mfn).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::fake::FakeMemory;
    use crate::mm::FrameInfo;
    use crate::mm::pte_rules::HYPERVISOR_L4_SLOTS;

    fn table(frames: usize) -> FrameTable<'static> {
        let storage = std::vec![FrameInfo::FREE; frames].leak();
        FrameTable::new(storage, [0; HYPERVISOR_L4_SLOTS])
    }

    #[test]
    fn a_frame_given_up_is_free_at_once_when_nothing_else_holds_it() {
        let mut frames = table(16);
        let mut memory = FakeMemory::default();
        frames.assign(Mfn(3), 1).unwrap();
        frames.assign(Mfn(4), 1).unwrap();
        assert_eq!(frames.owned_by(1), 2);
        assert_eq!(
            frames.give_up(&mut memory, Mfn(3), 2, &mut Budget::unlimited()),
            Err(Errno::ENXIO),
            "not its frame"
        );
        assert_eq!(
            frames.give_up(&mut memory, Mfn(9), 1, &mut Budget::unlimited()),
            Err(Errno::ENXIO),
            "a free frame"
        );
        assert_eq!(
            frames.give_up(&mut memory, Mfn(99), 1, &mut Budget::unlimited()),
            Err(Errno::EINVAL),
            "beyond the table"
        );
        assert_eq!(
            frames.give_up(&mut memory, Mfn(3), 1, &mut Budget::unlimited()),
            Ok(true)
        );
        assert!(frames.frame(Mfn(3)).unwrap().is_free());
        assert_eq!(frames.owned_by(1), 1);
        assert_eq!(
            frames.give_up(&mut memory, Mfn(3), 1, &mut Budget::unlimited()),
            Err(Errno::ENXIO),
            "gone"
        );
        assert_eq!(frames.check_invariants(&memory), Ok(()));
    }

    #[test]
    fn a_referenced_frame_given_up_stays_counted_until_its_last_reference_goes() {
        let mut frames = table(16);
        let mut memory = FakeMemory::default();
        frames.assign(Mfn(5), 2).unwrap();
        let held = frames.get_page(Mfn(5), 2).unwrap();
        assert!(!frames.is_held_only_by_allocation(Mfn(5), 2));
        assert_eq!(frames.take_back(Mfn(5), 2), Err(Errno::EINVAL), "in use: no exchange");
        assert_eq!(
            frames.give_up(&mut memory, Mfn(5), 2, &mut Budget::unlimited()),
            Ok(false)
        );
        assert_eq!(
            frames.give_up(&mut memory, Mfn(5), 2, &mut Budget::unlimited()),
            Ok(false),
            "again: still fine"
        );
        assert_eq!(frames.owned_by(2), 1, "still the domain's");
        frames.put_page(held);
        assert!(frames.frame(Mfn(5)).unwrap().is_free());
        assert_eq!(frames.owned_by(2), 0);
        assert_eq!(frames.take_freed_orphans().collect::<std::vec::Vec<_>>(), [Mfn(5)]);
    }

    #[test]
    fn only_a_frame_held_by_nothing_but_its_allocation_is_taken_back() {
        let mut frames = table(16);
        frames.assign(Mfn(6), 3).unwrap();
        assert_eq!(frames.take_back(Mfn(6), 4), Err(Errno::EINVAL), "another domain's");
        assert_eq!(frames.take_back(Mfn(6), 3), Ok(()));
        assert!(frames.frame(Mfn(6)).unwrap().is_free());
        assert_eq!(frames.owned_by(3), 0);
        assert_eq!(frames.take_freed_orphans().count(), 0, "the caller frees it");
    }
}
