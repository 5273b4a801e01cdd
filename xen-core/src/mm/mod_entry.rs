//! Editing one entry of a validated page table (what Xen's
//! `mod_l1_entry` … `mod_l4_entry` do).

use super::Mfn;
use super::budget::Budget;
use super::frame_table::FrameTable;
use super::page_type::TableLevel;
use super::pte_rules::{
    ENTRIES_PER_TABLE, adjust_entry, check_entry_flags, entry_address, is_fast_path_change, is_grant_mapping,
    is_guest_slot, is_present,
};
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

impl FrameTable<'_> {
    /// Replaces entry `index` of `table` with `new` and returns the level of
    /// the table edited.
    ///
    /// `table` must be a validated page table in use owned by `pt_owner`
    /// (mmu_update's PFD); new L1 entries map frames of `data_owner` (its FD),
    /// which the caller has allowed; L2–L4 edits need both to be the same
    /// domain. The new entry's references are taken (validating any tree it
    /// reaches) before it is written in installed form, then the old entry's
    /// are dropped. Only A/D, available, NX, USER and GLOBAL changes on the
    /// same frame skip that (never an RW change: XSA-182).
    ///
    /// Errors, with nothing changed: -EINVAL for a table that is not a
    /// validated table of `pt_owner`, an index past the table or in L4 slots
    /// 256–271, owners that differ for L2–L4, disallowed flags, or an upper
    /// entry whose target is not a frame of the domain usable at the next lower
    /// level; -EPERM / -EBUSY for an L1 entry whose target cannot be mapped
    /// (see `entry_refs`). L2–L4 releases happen at once rather than being
    /// deferred to the end of the hypercall.
    ///
    /// Inlined, so that the checks and the fast path (what most guest
    /// updates take) run without a call; the reference work is out of line.
    #[inline(always)]
    pub fn mod_entry<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        table: Mfn,
        index: usize,
        new: u64,
        pt_owner: DomId,
        data_owner: DomId,
    ) -> Result<TableLevel, Errno> {
        self.mod_entry_within(
            memory,
            table,
            index,
            new,
            pt_owner,
            data_owner,
            &mut Budget::unlimited(),
        )
    }

    /// [`FrameTable::mod_entry`] with the validation of a new tree and the
    /// release of an old one bounded by `budget`: -ERESTART, with nothing
    /// changed, when the new entry's tree is not validated yet (editing the
    /// same entry again goes on with it); a release that does not finish is
    /// kept and finished before the owner's next page-table request.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)] // mod_entry's, and the budget
    pub fn mod_entry_within<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        table: Mfn,
        index: usize,
        new: u64,
        pt_owner: DomId,
        data_owner: DomId,
        budget: &mut Budget,
    ) -> Result<TableLevel, Errno> {
        let frame = self.frame(table).ok_or(Errno::EINVAL)?;
        if frame.owner != Some(pt_owner) || !frame.allocated {
            return Err(Errno::EINVAL);
        }
        let level = frame.table_level().ok_or(Errno::EINVAL)?;
        if index >= ENTRIES_PER_TABLE || !is_guest_slot(level, index) {
            return Err(Errno::EINVAL);
        }
        if level != TableLevel::L1 && data_owner != pt_owner {
            return Err(Errno::EINVAL);
        }
        let address = entry_address(table, index);
        let old = memory.read_u64(address);
        let new = if is_present(new) {
            check_entry_flags(new, level)?;
            let new = adjust_entry(new, level);
            if is_fast_path_change(old, new) {
                memory.write_u64(address, new);
                return Ok(level);
            }
            new
        } else {
            self.l1tf.check_not_present(new, level)?;
            new
        };
        self.replace_entry(memory, address, old, new, level, pt_owner, data_owner, budget)?;
        Ok(level)
    }

    /// Takes the references of `new` (present and adjusted, or not
    /// present), writes it at `address` over `old`, and drops the references
    /// `old` held.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)] // the parts of one edit, already checked
    fn replace_entry<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        address: u64,
        old: u64,
        new: u64,
        level: TableLevel,
        pt_owner: DomId,
        data_owner: DomId,
        budget: &mut Budget,
    ) -> Result<(), Errno> {
        // A grant mapping goes only through unmap_grant_ref, which also
        // gives the grant back (Xen crashes a guest that tries; refusing is
        // enough, since nothing changed).
        if level == TableLevel::L1 && is_grant_mapping(old) {
            return Err(Errno::EINVAL);
        }
        if is_present(new) {
            self.acquire_entry_within(memory, new, level, pt_owner, data_owner, budget)?;
        }
        memory.write_u64(address, new);
        self.release_entry(memory, old, level, budget);
        Ok(())
    }
}
