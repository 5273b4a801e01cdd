//! The references one present entry holds, for 64-bit PV
//! guests.
//!
//! - L1: a general reference on the mapped frame, which must be an allocated
//!   frame of the data owner; RW entries also a WRITABLE typed reference,
//!   which fails while the frame is a page table (and a frame mapped writable
//!   cannot become one): the isolation rule.
//! - L2–L4: a general reference and a typed reference of the next lower level
//!   on a frame of the table's owner, validating it on first use.
//! - Linear (recursive) entries, which would need a typed reference of the
//!   table's own level, are refused: 10.4 allows that, and it closes XSA-182
//!   and XSA-185 at the root. No frame is ever typed at two levels, so an entry
//!   pointing at its own table, or at any table of its level, fails the type
//!   check with -EINVAL.
//! - I/O memory and DOMID_IO mappings are not supported: a frame beyond the
//!   frame table is refused like an MMIO frame of a domain without I/O
//!   permission (-EPERM).

use super::Mfn;
use super::budget::Budget;
use super::frame_info::MAX_REFS;
use super::frame_table::FrameTable;
use super::page_type::{PageType, TableLevel};
use super::pte_rules::{INVALID_ENTRY_MFN, RW, check_entry_flags, entry_mfn, is_grant_mapping, is_present};
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

/// What acquiring an entry's references left to do.
pub(super) enum Acquired {
    /// All references are held.
    Complete,
    /// References are held on a table of this level that now needs validating.
    NeedsValidation(Mfn, TableLevel),
}

impl FrameTable<'_> {
    /// Takes the references present `entry` of a table of `level` needs;
    /// tables it points at for the first time are left to the caller to
    /// validate. On error nothing is held.
    pub(super) fn acquire_entry(
        &mut self,
        entry: u64,
        level: TableLevel,
        table_owner: DomId,
        data_owner: DomId,
    ) -> Result<Acquired, Errno> {
        check_entry_flags(entry, level)?;
        let target = entry_mfn(entry);
        let Some(lower) = level.lower() else {
            self.acquire_mapping(entry, target, data_owner)?;
            return Ok(Acquired::Complete);
        };
        self.get_page_raw(target, table_owner)?;
        match self.begin_type(target, lower.page_type()) {
            Ok(true) => Ok(Acquired::NeedsValidation(target, lower)),
            Ok(false) => Ok(Acquired::Complete),
            Err(error) => {
                let _ = self.put_page_raw(target);
                Err(error)
            }
        }
    }

    /// Takes the references present `entry` of a table of `level` needs,
    /// validating the tree it reaches within `budget` (-ERESTART if that did
    /// not finish: the validation is kept, and the same entry goes on with
    /// it). On error nothing is held.
    pub(super) fn acquire_entry_within<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        entry: u64,
        level: TableLevel,
        table_owner: DomId,
        data_owner: DomId,
        budget: &mut Budget,
    ) -> Result<(), Errno> {
        check_entry_flags(entry, level)?;
        let target = entry_mfn(entry);
        let Some(lower) = level.lower() else {
            return self.acquire_mapping(entry, target, data_owner);
        };
        self.get_page_raw(target, table_owner)?;
        if let Err(error) = self.get_type_within(memory, target, lower.page_type(), budget) {
            let _ = self.put_page_raw(target);
            return Err(error);
        }
        Ok(())
    }

    /// Drops the references a present entry of a validated table of `level`
    /// holds, devalidating what only it kept validated. Inlined: it is the
    /// second half of every entry replacement, and a call there costs every
    /// `mmu_update` entry its prologue and epilogue.
    #[inline(always)]
    pub(super) fn release_entry<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        entry: u64,
        level: TableLevel,
        budget: &mut Budget,
    ) {
        if !is_present(entry) {
            return;
        }
        // Never a grant mapping: replacing one is refused before this
        // (`replace_entry`, `map_grant`), and tables dropped with theirs in
        // them are counted where they are released (`release_entries`).
        debug_assert!(level != TableLevel::L1 || !is_grant_mapping(entry));
        let target = entry_mfn(entry);
        if level != TableLevel::L1 || entry & RW != 0 {
            self.put_type_within(memory, target, budget);
        }
        let _ = self.put_page_raw(target);
    }

    /// The references of an L1 entry mapping `target`. -EPERM beyond the frame
    /// table (-EINVAL for the all-ones frame), -EBUSY for a free, foreign or
    /// saturated frame or one that cannot be mapped writable.
    fn acquire_mapping(&mut self, entry: u64, target: Mfn, data_owner: DomId) -> Result<(), Errno> {
        let Some(frame) = self.frame_mut(target) else {
            return Err(if target == INVALID_ENTRY_MFN {
                Errno::EINVAL
            } else {
                Errno::EPERM
            });
        };
        if frame.owner != Some(data_owner) || !frame.allocated || frame.count >= MAX_REFS {
            return Err(Errno::EBUSY);
        }
        frame.count += 1;
        if entry & RW != 0 && self.begin_type(target, PageType::Writable).is_err() {
            let _ = self.put_page_raw(target);
            return Err(Errno::EBUSY);
        }
        Ok(())
    }
}
