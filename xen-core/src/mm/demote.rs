//! Devalidating ("demote", Xen's `free_page_type`): dropping the references a
//! table's entries hold, without recursion and in bounded steps.
//!
//! A table losing its last typed reference releases every present guest
//! entry; a child losing its own last one is released in turn. As in
//! `promote`, a stack of at most four tables replaces recursion, each entry
//! costs one unit of the invocation's budget, and a release that runs out is
//! kept as a job and finished before the domain's next page-table operation.
//! A table being released keeps its type (with no typed reference) until
//! its last entry is released, so nothing can type or map it meanwhile and
//! its entries stay as the release found them.

use super::budget::Budget;
use super::frame_table::FrameTable;
use super::page_type::{PageType, TableLevel};
use super::pte_rules::{ENTRIES_PER_TABLE, RW, entry_address, entry_mfn, is_grant_mapping, is_guest_slot, is_present};
use super::release_stack::{Finish, ReleaseStack, Releasing};
use crate::arch::PhysicalMemory;

impl FrameTable<'_> {
    /// Goes on releasing the tables of `stack` within `budget`; whether it
    /// is done.
    pub(super) fn release_steps<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        stack: &mut ReleaseStack,
        budget: &mut Budget,
    ) -> bool {
        loop {
            let Some(top) = stack.last_mut() else {
                return true;
            };
            if top.next >= top.end {
                let done = *top;
                stack.pop();
                match done.finish {
                    // A demoted L4 keeps its hypervisor slots, as in Xen;
                    // promoting it again refills them, and typing it as
                    // L1–L3 validates them like any entry.
                    Finish::Demoted => {
                        if let Some(frame) = self.frame_mut(done.mfn) {
                            frame.releasing = false;
                            frame.page_type = PageType::None;
                        }
                    }
                    Finish::Abandoned => {
                        self.drop_type(done.mfn);
                    }
                }
                let _ = self.put_page_raw(done.mfn);
                continue;
            }
            if !budget.take() {
                return false;
            }
            let (mfn, table_level, index) = (top.mfn, top.level, top.next);
            top.next += 1;
            let entry = memory.read_u64(entry_address(mfn, index));
            if !is_guest_slot(table_level, index) || !is_present(entry) {
                continue;
            }
            let target = entry_mfn(entry);
            if table_level == TableLevel::L1 {
                if is_grant_mapping(entry) {
                    self.implicit_grant_unmaps += 1;
                }
                if entry & RW != 0 {
                    self.drop_type(target);
                }
                let _ = self.put_page_raw(target);
            } else if let Some(child_level) = self.drop_type(target) {
                // Levels decrease, so the stack never holds more than four.
                let pushed = stack.push(Releasing {
                    mfn: target,
                    level: child_level,
                    next: 0,
                    end: ENTRIES_PER_TABLE,
                    finish: Finish::Demoted,
                });
                debug_assert!(pushed.is_ok(), "page-table release deeper than four levels");
            } else {
                let _ = self.put_page_raw(target);
            }
        }
    }
}
