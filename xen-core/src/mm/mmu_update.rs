//! `mmu_update`: a batch of page-table and M2P updates (`MMU_NORMAL_PT_UPDATE`,
//! `MMU_MACHPHYS_UPDATE` and `MMU_PT_UPDATE_PRESERVE_AD` in Xen's `xen.h`).
//!
//! Each request names the machine address of one 8-byte entry (low three bits:
//! the command) and a value. An entry of a validated page table is edited
//! through [`FrameTable::mod_entry`] with every rule of 10.8; an entry of any
//! other frame the caller owns is written plainly, under a WRITABLE type
//! reference, as a guest fills a future page table. The batch stops at the
//! first failing request; `*done` tells the guest how many succeeded. A long
//! batch preempts itself: the hypercall is re-run with the rest.

use super::batch_progress::{MmuBatch, batch_owners, run_batch};
use super::budget::Budget;
use super::carry_out::carry_out;
use super::frame_table::FrameTable;
use super::pte_rules::{ACCESSED, DIRTY};
use super::tlb_flush::TlbFlush;
use super::{Mfn, PageType, Pfn, TableLevel};
use crate::arch::{GuestMemory, MachineToPhys, PhysicalMemory};
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;
use xen_abi::mmu::{
    MMU_MACHPHYS_UPDATE, MMU_NORMAL_PT_UPDATE, MMU_PT_UPDATE_NO_TRANSLATE, MMU_PT_UPDATE_PRESERVE_AD, MmuUpdate,
};

/// Requests handled per call before the batch preempts itself.
pub const REQUESTS_PER_CALL: u64 = 128;
/// Size of one `mmu_update` request.
const REQUEST_SIZE: u64 = size_of::<MmuUpdate>() as u64;

/// Runs `mmu_update(list, count, done, foreigndom)` for `caller`. Each
/// request's flush is carried out before the next is read: everything once
/// an L2–L4 entry changed (a whole range of mappings, and the CPU's cached
/// walks through the old subtree, may have gone), nothing for L1 edits,
/// after which the guest flushes what it needs itself (Xen's `mmu_update`
/// contract in `public/xen.h`).
pub fn apply_mmu_updates(
    table: &mut FrameTable<'_>,
    memory: &mut impl PhysicalMemory,
    guest: &mut impl GuestMemory,
    m2p: &mut impl MachineToPhys,
    caller: DomId,
    args: [u64; 5],
) -> Result<MmuBatch, Errno> {
    let (pt_owner, data_owner) = batch_owners(caller, args[3])?;
    let mut budget = Budget::per_invocation();
    run_batch(
        guest,
        args,
        REQUEST_SIZE,
        REQUESTS_PER_CALL,
        |guest, request: &MmuUpdate| {
            if table.has_jobs() {
                table.settle(memory, pt_owner, &mut budget)?;
            }
            match apply(table, memory, m2p, request, pt_owner, data_owner, &mut budget) {
                // An L1 edit owes no flush (nor can it make a page table).
                Ok(None | Some(TableLevel::L1)) => Ok(()),
                Ok(Some(_)) => {
                    carry_out(table, guest, TlbFlush::All);
                    Ok(())
                }
                Err(error) => {
                    carry_out(table, guest, TlbFlush::None);
                    Err(error)
                }
            }
        },
    )
}

/// One request, its page-table work within `budget`; returns the level of
/// the page table whose entry it edited.
fn apply(
    table: &mut FrameTable<'_>,
    memory: &mut impl PhysicalMemory,
    m2p: &mut impl MachineToPhys,
    request: &MmuUpdate,
    pt_owner: DomId,
    data_owner: DomId,
    budget: &mut Budget,
) -> Result<Option<TableLevel>, Errno> {
    // As in Xen, the command is the pointer's low three bits (an entry's
    // alignment), so a pointer with bit 2 set names no command: -ENOSYS,
    // which real Xen 4.17 answers too.
    let command = request.ptr & 7;
    let address = request.ptr & !7;
    let mfn = Mfn::containing(address);
    match command {
        MMU_MACHPHYS_UPDATE => {
            // Only a frame the caller owns may have its M2P entry changed.
            let page = table.get_page(mfn, pt_owner)?;
            m2p.set(mfn, Pfn(request.val));
            table.put_page(page);
            Ok(None)
        }
        MMU_NORMAL_PT_UPDATE | MMU_PT_UPDATE_PRESERVE_AD | MMU_PT_UPDATE_NO_TRANSLATE => {
            let index = ((address % 4096) / 8) as usize;
            let mut value = request.val;
            if table.page_table_level(mfn).is_some() {
                if command == MMU_PT_UPDATE_PRESERVE_AD {
                    value |= memory.read_u64(address) & (ACCESSED | DIRTY);
                }
                table
                    .mod_entry_within(memory, mfn, index, value, pt_owner, data_owner, budget)
                    .map(Some)
            } else {
                // Not a page table: a plain write, allowed only while the
                // frame can be typed writable (it cannot if it is a table).
                let writable = table.get_page_and_type(memory, mfn, pt_owner, PageType::Writable)?;
                memory.write_u64(address, value);
                table.put_page_and_type(memory, writable);
                Ok(None)
            }
        }
        _ => Err(Errno::ENOSYS),
    }
}
