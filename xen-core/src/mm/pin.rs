//! Pinning and unpinning page tables (`MMUEXT_PIN_L*_TABLE` and
//! `MMUEXT_UNPIN_TABLE` in Xen's `xen.h`): a pin keeps a table
//! validated while no base pointer or parent entry uses it. Pins do not nest.

use super::Mfn;
use super::budget::Budget;
use super::frame_table::FrameTable;
use super::page_type::TableLevel;
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

impl FrameTable<'_> {
    /// Pins `mfn`, a frame of `owner`, as a table of `level`, validating its
    /// tree if needed. -EINVAL for a frame that is not `owner`'s or is already
    /// pinned, or whatever validation reported; nothing changes on failure.
    pub fn pin<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        mfn: Mfn,
        owner: DomId,
        level: TableLevel,
    ) -> Result<(), Errno> {
        self.pin_within(memory, mfn, owner, level, &mut Budget::unlimited())
    }

    /// [`FrameTable::pin`] within `budget`: -ERESTART when the validation
    /// did not finish (it is kept; pinning again goes on with it).
    pub fn pin_within<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        mfn: Mfn,
        owner: DomId,
        level: TableLevel,
        budget: &mut Budget,
    ) -> Result<(), Errno> {
        self.get_page_raw(mfn, owner)?;
        if self.frame(mfn).is_some_and(|frame| frame.pinned) {
            let _ = self.put_page_raw(mfn);
            return Err(Errno::EINVAL);
        }
        if let Err(error) = self.get_type_within(memory, mfn, level.page_type(), budget) {
            let _ = self.put_page_raw(mfn);
            return Err(error);
        }
        if let Some(frame) = self.frame_mut(mfn) {
            frame.pinned = true;
        }
        Ok(())
    }

    /// Unpins `mfn`, a frame of `owner`, dropping the pin's references (and
    /// devalidating the tree if nothing else uses it). -EINVAL for a frame
    /// that is not `owner`'s or not pinned.
    pub fn unpin<M: PhysicalMemory>(&mut self, memory: &mut M, mfn: Mfn, owner: DomId) -> Result<(), Errno> {
        self.unpin_within(memory, mfn, owner, &mut Budget::unlimited())
    }

    /// [`FrameTable::unpin`], releasing the tree within `budget` (what is
    /// left is finished before the owner's next page-table request).
    pub fn unpin_within<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        mfn: Mfn,
        owner: DomId,
        budget: &mut Budget,
    ) -> Result<(), Errno> {
        let frame = self.frame_mut(mfn).ok_or(Errno::EINVAL)?;
        if frame.owner != Some(owner) || !frame.allocated || !frame.pinned {
            return Err(Errno::EINVAL);
        }
        frame.pinned = false;
        self.put_type_within(memory, mfn, budget);
        let _ = self.put_page_raw(mfn);
        Ok(())
    }
}
