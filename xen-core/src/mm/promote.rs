//! Validating a page-table tree ("promote", xen-pv-abi 10.5), without recursion.
//!
//! Validating an L4 validates every L3 it reaches for the first time, their
//! L2s, their L1s. Instead of recursing over guest-built structure, a stack of
//! at most four pending tables (levels strictly decrease down a tree, since
//! linear entries are refused) records where each table's scan stands.
//!
//! Cost: each table is scanned once per operation however many entries point
//! at it (a second reference finds it validated and only counts), so one
//! operation reads at most 512 entries per frame the domain owns, plus the same
//! again to install the new tables. For a 1 GiB domain that bound is about 1.3
//! × 10^8 entries: the hypercall layer should later split it with Xen's
//! preemption and continuations (10.11) or cap the tree size; nothing here needs
//! to change for a resumable version but saving the stack in the frames.
//!
//! Failing is side-effect free: entries already taken are released in reverse
//! (which may devalidate tables this operation validated), and memory is only
//! written by [`FrameTable::install_tree`] once the whole tree is accepted.

use super::Mfn;
use super::entry_refs::Acquired;
use super::frame_table::FrameTable;
use super::layout::FIRST_HYPERVISOR_L4_SLOT;
use super::page_type::TableLevel;
use super::pte_rules::{ENTRIES_PER_TABLE, adjust_entry, entry_address, entry_mfn, is_guest_slot, is_present};
use crate::arch::PhysicalMemory;
use heapless::Vec;
use xen_abi::errno::Errno;

/// Tables pending at once: one per level.
pub(super) const MAX_DEPTH: usize = 4;

/// A table whose scan is under way.
#[derive(Clone, Copy)]
struct Pending {
    mfn: Mfn,
    level: TableLevel,
    /// The next entry to look at; entries before it hold their references.
    next: usize,
}

impl FrameTable<'_> {
    /// Validates table `root` of `level`, on which the caller holds a general
    /// reference and the first typed reference (`begin_type` said so). On
    /// success the tree is validated and its new tables are marked fresh; on
    /// failure the typed reference is gone and nothing else changed.
    pub(super) fn validate_tree<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        root: Mfn,
        level: TableLevel,
    ) -> Result<(), Errno> {
        let Some(owner) = self.frame(root).and_then(|frame| frame.owner) else {
            self.drop_type(root);
            return Err(Errno::EINVAL);
        };
        let mut stack: Vec<Pending, MAX_DEPTH> = Vec::new();
        let mut pending = Some(Pending {
            mfn: root,
            level,
            next: 0,
        });
        loop {
            if let Some(table) = pending.take()
                && stack.push(table).is_err()
            {
                // Unreachable: a child is one level below its parent.
                self.abandon_table(table.mfn);
                self.unwind(memory, &mut stack);
                return Err(Errno::EINVAL);
            }
            let Some(top) = stack.last_mut() else {
                return Ok(());
            };
            if top.next == ENTRIES_PER_TABLE {
                let done = top.mfn;
                stack.pop();
                if let Some(frame) = self.frame_mut(done) {
                    frame.validated = true;
                    frame.fresh = true;
                }
                if let Some(parent) = stack.last_mut() {
                    parent.next += 1;
                }
                continue;
            }
            let (table, table_level, index) = (top.mfn, top.level, top.next);
            let entry = memory.read_u64(entry_address(table, index));
            if !is_guest_slot(table_level, index) {
                top.next += 1;
                continue;
            }
            let checked = if is_present(entry) {
                self.acquire_entry(entry, table_level, owner, owner)
            } else {
                self.l1tf
                    .check_not_present(entry, table_level)
                    .map(|()| Acquired::Complete)
            };
            match checked {
                Ok(Acquired::Complete) => top.next += 1,
                Ok(Acquired::NeedsValidation(child, child_level)) => {
                    pending = Some(Pending {
                        mfn: child,
                        level: child_level,
                        next: 0,
                    });
                }
                Err(error) => {
                    self.unwind(memory, &mut stack);
                    return Err(error);
                }
            }
        }
    }

    /// Undoes a failed validation, innermost table first: releases the entries
    /// each table had taken, drops the typed reference it was being validated
    /// under and, below the root, the parent entry's general reference.
    fn unwind<M: PhysicalMemory>(&mut self, memory: &mut M, stack: &mut Vec<Pending, MAX_DEPTH>) {
        while let Some(table) = stack.pop() {
            self.release_entries(memory, table.mfn, table.level, table.next);
            if stack.is_empty() {
                self.drop_type(table.mfn);
            } else {
                self.abandon_table(table.mfn);
            }
        }
    }

    /// Drops the typed and general references a parent entry took on a table
    /// whose validation did not complete.
    fn abandon_table(&mut self, mfn: Mfn) {
        self.drop_type(mfn);
        let _ = self.put_page_raw(mfn);
    }

    /// Rewrites the entries of the fresh tables under `root` in installed form
    /// (USER forcing, 4.1) and fills a fresh L4's hypervisor slots; clears
    /// their fresh marks. Visits each fresh table once.
    pub(super) fn install_tree<M: PhysicalMemory>(&mut self, memory: &mut M, root: Mfn) {
        let Some(level) = self.take_fresh(root) else {
            return;
        };
        let mut stack: Vec<Pending, MAX_DEPTH> = Vec::new();
        let mut pending = Some(Pending {
            mfn: root,
            level,
            next: 0,
        });
        loop {
            if let Some(table) = pending.take() {
                // Cannot fail: levels decrease, so the stack never holds more
                // than four tables. (Were it to fail, the table would keep its
                // guest-written form, including L4 slots 256-271: hence the
                // assertion in debug builds.)
                let pushed = stack.push(table);
                debug_assert!(pushed.is_ok(), "page-table walk deeper than four levels");
            }
            let Some(top) = stack.last_mut() else {
                return;
            };
            if top.next == ENTRIES_PER_TABLE {
                let (table, table_level) = (top.mfn, top.level);
                stack.pop();
                if table_level == TableLevel::L4 {
                    for (offset, &entry) in self.hypervisor_slots.iter().enumerate() {
                        memory.write_u64(entry_address(table, FIRST_HYPERVISOR_L4_SLOT + offset), entry);
                    }
                }
                continue;
            }
            let (table, table_level, index) = (top.mfn, top.level, top.next);
            top.next += 1;
            let entry = memory.read_u64(entry_address(table, index));
            if !is_guest_slot(table_level, index) || !is_present(entry) {
                continue;
            }
            let installed = adjust_entry(entry, table_level);
            if installed != entry {
                memory.write_u64(entry_address(table, index), installed);
            }
            if table_level != TableLevel::L1 {
                let child = entry_mfn(entry);
                if let Some(child_level) = self.take_fresh(child) {
                    pending = Some(Pending {
                        mfn: child,
                        level: child_level,
                        next: 0,
                    });
                }
            }
        }
    }

    /// Clears the fresh mark of a table, returning its level if it had one.
    fn take_fresh(&mut self, mfn: Mfn) -> Option<TableLevel> {
        let frame = self.frame_mut(mfn)?;
        if !core::mem::take(&mut frame.fresh) {
            return None;
        }
        frame.page_type.table_level()
    }
}
