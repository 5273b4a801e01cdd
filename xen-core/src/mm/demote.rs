//! Devalidating ("demote", xen-pv-abi 10.6): dropping the references a table's
//! entries hold, without recursion.
//!
//! A table losing its last typed reference releases every present guest entry;
//! a child losing its own last one is devalidated in turn. As in `promote`, a
//! stack of at most four tables replaces recursion, and each table is scanned
//! once, so the cost is bounded by 512 entries per frame of the domain.

use super::Mfn;
use super::frame_table::FrameTable;
use super::page_type::TableLevel;
use super::promote::MAX_DEPTH;
use super::pte_rules::{ENTRIES_PER_TABLE, RW, entry_address, entry_mfn, is_grant_mapping, is_guest_slot, is_present};
use crate::arch::PhysicalMemory;
use heapless::Vec;

/// A table whose entries are being released.
#[derive(Clone, Copy)]
struct Releasing {
    mfn: Mfn,
    level: TableLevel,
    next: usize,
    end: usize,
    /// The parent entry's general reference, dropped once the scan is done.
    parent_ref: bool,
}

impl FrameTable<'_> {
    /// Drops the references held by the present guest entries `[0, end)` of
    /// `table`, devalidating children whose last typed reference they were.
    /// A whole validated L4 (`end` = 512) also loses its hypervisor slots.
    pub(super) fn release_entries<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        table: Mfn,
        level: TableLevel,
        end: usize,
    ) {
        let mut stack: Vec<Releasing, MAX_DEPTH> = Vec::new();
        let mut pending = Some(Releasing {
            mfn: table,
            level,
            next: 0,
            end,
            parent_ref: false,
        });
        loop {
            if let Some(releasing) = pending.take()
                && stack.push(releasing).is_err()
            {
                // Unreachable (levels decrease): keep the references, which
                // leaks the subtree but never frees a frame in use.
                continue;
            }
            let Some(top) = stack.last_mut() else {
                return;
            };
            if top.next >= top.end {
                let done = *top;
                stack.pop();
                // A demoted L4 keeps its hypervisor slots, as in Xen: it may
                // still be loaded in CR3 (the base pointer is released before
                // the new one is loaded), and without them the hypervisor's
                // own code and stack would vanish. Promoting it again refills
                // them; typing it as L1–L3 validates them like any entry.
                if done.parent_ref {
                    let _ = self.put_page_raw(done.mfn);
                }
                continue;
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
                pending = Some(Releasing {
                    mfn: target,
                    level: child_level,
                    next: 0,
                    end: ENTRIES_PER_TABLE,
                    parent_ref: true,
                });
            } else {
                let _ = self.put_page_raw(target);
            }
        }
    }
}
