//! Validating a page-table tree ("promote", Xen's `alloc_page_type`), without
//! recursion and in bounded steps.
//!
//! Validating an L4 validates every L3 it reaches for the first time, their
//! L2s, their L1s. Instead of recursing over guest-built structure, a stack of
//! at most four pending tables (levels strictly decrease down a tree, since
//! linear entries are refused) records where each table's scan stands. Each
//! entry is rewritten in installed form as it is accepted (USER forcing, as
//! Xen adjusts entries in place), and an L4 gets the hypervisor's slots when
//! its scan completes; only then is a table marked validated.
//!
//! Each entry costs one unit of the invocation's [`Budget`]; when it runs out
//! the stack is kept in a job (`mmu_job`) and the hypercall is re-run, so one
//! invocation does a bounded part however large the tree. Tables on the
//! stack hold their typed reference while unvalidated, so no other type, no
//! writable mapping and no entry edit can reach them between invocations;
//! tables not reached yet are the guest's to change until they are.
//!
//! Failing leaves the guest's entries in installed form where they were
//! accepted (as Xen does) and releases every reference taken, innermost
//! table first, through the same bounded release as a demotion.

use super::Mfn;
use super::budget::Budget;
use super::entry_refs::Acquired;
use super::frame_table::FrameTable;
use super::layout::FIRST_HYPERVISOR_L4_SLOT;
use super::page_type::TableLevel;
use super::pending_stack::{Pending, PendingStack};
use super::pte_rules::{ENTRIES_PER_TABLE, adjust_entry, entry_address, is_guest_slot, is_present};
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

/// How far a bounded validation got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Validation {
    /// Every table of the tree is validated.
    Done,
    /// The budget ran out; the stack says where to go on.
    Preempted,
    /// An entry was refused; the stack holds what must be released.
    Failed(Errno),
}

impl FrameTable<'_> {
    /// Goes on validating the tables of `stack` (tables of `owner`, each
    /// holding the typed reference it is validated under) within `budget`.
    pub(super) fn validate_steps<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        owner: DomId,
        stack: &mut PendingStack,
        budget: &mut Budget,
    ) -> Validation {
        loop {
            let Some(top) = stack.last_mut() else {
                return Validation::Done;
            };
            if top.next == ENTRIES_PER_TABLE {
                let done = *top;
                stack.pop();
                self.complete_table(memory, done.mfn, done.level);
                if let Some(parent) = stack.last_mut() {
                    parent.next += 1;
                }
                continue;
            }
            if !budget.take() {
                return Validation::Preempted;
            }
            let (table, table_level, index) = (top.mfn, top.level, top.next);
            let address = entry_address(table, index);
            let entry = memory.read_u64(address);
            if !is_guest_slot(table_level, index) {
                top.next += 1;
                continue;
            }
            if !is_present(entry) {
                if let Err(error) = self.l1tf.check_not_present(entry, table_level) {
                    return Validation::Failed(error);
                }
                top.next += 1;
                continue;
            }
            let acquired = match self.acquire_entry(entry, table_level, owner, owner) {
                Ok(acquired) => acquired,
                Err(error) => return Validation::Failed(error),
            };
            let installed = adjust_entry(entry, table_level);
            if installed != entry {
                memory.write_u64(address, installed);
            }
            match acquired {
                Acquired::Complete => top.next += 1,
                Acquired::NeedsValidation(child, level) => {
                    if stack
                        .push(Pending {
                            mfn: child,
                            level,
                            next: 0,
                        })
                        .is_err()
                    {
                        // Unreachable: a child is one level below its parent.
                        self.drop_type(child);
                        let _ = self.put_page_raw(child);
                        return Validation::Failed(Errno::EINVAL);
                    }
                }
            }
        }
    }

    /// Marks a table whose every entry was accepted as validated; an L4 gets
    /// the hypervisor's slots first.
    fn complete_table<M: PhysicalMemory>(&mut self, memory: &mut M, table: Mfn, level: TableLevel) {
        if level == TableLevel::L4 {
            for (offset, &entry) in self.hypervisor_slots.iter().enumerate() {
                memory.write_u64(entry_address(table, FIRST_HYPERVISOR_L4_SLOT + offset), entry);
            }
        }
        if let Some(frame) = self.frame_mut(table) {
            frame.validated = true;
        }
    }
}
