//! `mmuext_op`: pins, base pointers, TLB flushes and page operations
//! (`struct mmuext_op` in Xen's `public/xen.h`), a batch like `mmu_update`.
//!
//! Every request's effect on the CPU happens before the next request is
//! read: a new base pointer is loaded into CR3 before the old base's
//! references are dropped (until then the CPU still walks the old L4, which
//! its owner could rewrite once untyped), and TLB flushes are carried out
//! at once (see `carry_out`).

use super::base_pointer::{BasePointers, BaseSwitch};
use super::batch_progress::{MmuBatch, batch_owners, run_batch};
use super::budget::Budget;
use super::carry_out::carry_out;
use super::frame_table::FrameTable;
use super::guest_ldt::GuestLdt;
use super::layout::is_canonical;
use super::mfn::PAGE_SIZE;
use super::tlb_flush::TlbFlush;
use super::{Mfn, PageType, TableLevel};
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::guest_copy::read_from_guest;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;
use xen_abi::mmu::*;

/// Requests handled per call before the batch preempts itself (fewer than
/// `mmu_update`'s: a pin may validate a whole tree).
pub const OPS_PER_CALL: u64 = 16;
/// Size of one `mmuext_op` request.
const OP_SIZE: u64 = size_of::<MmuextOp>() as u64;

/// Runs `mmuext_op(ops, count, done, foreigndom)` for `caller`, whose base
/// pointers are `bases` and whose kernel tables the CPU walks (`guest`).
pub fn apply_mmuext_ops(
    table: &mut FrameTable<'_>,
    memory: &mut impl PhysicalMemory,
    guest: &mut impl GuestMemory,
    caller: DomId,
    mut bases: BasePointers<'_>,
    args: [u64; 5],
) -> Result<MmuBatch, Errno> {
    let (owner, _) = batch_owners(caller, args[3])?;
    let mut budget = Budget::per_invocation();
    run_batch(guest, args, OP_SIZE, OPS_PER_CALL, |guest, op: &MmuextOp| {
        if table.has_jobs() {
            table.settle(memory, owner, &mut budget)?;
        }
        let result = apply(table, memory, guest, owner, &mut bases, op, &mut budget);
        carry_out(table, guest, *result.as_ref().unwrap_or(&TlbFlush::None));
        result.map(|_| ())
    })
}

/// One request, its page-table work within `budget`; returns the flush it
/// asks for.
fn apply(
    table: &mut FrameTable<'_>,
    memory: &mut impl PhysicalMemory,
    guest: &mut impl GuestMemory,
    owner: DomId,
    bases: &mut BasePointers<'_>,
    op: &MmuextOp,
    budget: &mut Budget,
) -> Result<TlbFlush, Errno> {
    let mfn = Mfn(op.arg1);
    const NO_FLUSH: TlbFlush = TlbFlush::None;
    match op.cmd {
        MMUEXT_PIN_L1_TABLE => table
            .pin_within(memory, mfn, owner, TableLevel::L1, budget)
            .map(|()| NO_FLUSH),
        MMUEXT_PIN_L2_TABLE => table
            .pin_within(memory, mfn, owner, TableLevel::L2, budget)
            .map(|()| NO_FLUSH),
        MMUEXT_PIN_L3_TABLE => table
            .pin_within(memory, mfn, owner, TableLevel::L3, budget)
            .map(|()| NO_FLUSH),
        MMUEXT_PIN_L4_TABLE => table
            .pin_within(memory, mfn, owner, TableLevel::L4, budget)
            .map(|()| NO_FLUSH),
        MMUEXT_UNPIN_TABLE => table.unpin_within(memory, mfn, owner, budget).map(|()| NO_FLUSH),
        MMUEXT_NEW_BASEPTR => {
            if let BaseSwitch::Switched { old } = table.new_baseptr_within(memory, owner, bases.kernel, mfn, budget)? {
                // Loading CR3 also drops every TLB entry (the hypervisor's
                // own mappings are not global), so no flush is owed, nor the
                // one a newly validated tree asks for.
                guest.load_page_table_base(mfn);
                let _ = table.take_flush_request();
                if let Some(old) = old {
                    table.put_page_and_type_within(memory, old, budget);
                }
                // The LDT's address may map other frames in the new tables:
                // its pages are faulted in again from them, as on Xen.
                if let Some(pages) = bases.ldt.drop_pages() {
                    guest.load_ldt(&bases.ldt.view());
                    for typed in pages.into_iter().flatten() {
                        table.put_page_and_type_within(memory, typed, budget);
                    }
                }
            }
            Ok(NO_FLUSH)
        }
        MMUEXT_TLB_FLUSH_LOCAL | MMUEXT_TLB_FLUSH_ALL => Ok(TlbFlush::All),
        MMUEXT_TLB_FLUSH_MULTI | MMUEXT_INVLPG_MULTI => {
            // The vCPU mask must be readable even though, with one vCPU,
            // flushing it is flushing everything we have.
            let _mask: u64 = read_from_guest(guest, op.arg2)?;
            if op.cmd == MMUEXT_INVLPG_MULTI {
                invlpg(op.arg1)
            } else {
                Ok(TlbFlush::All)
            }
        }
        MMUEXT_INVLPG_LOCAL | MMUEXT_INVLPG_ALL => invlpg(op.arg1),
        MMUEXT_NEW_USER_BASEPTR => {
            // The CPU walks the kernel base during a hypercall and no cached
            // translation of the user base outlived the switch to it, so the
            // old user base's references go at once. Frame 0 means none.
            let old = if op.arg1 == 0 {
                bases.user.take()
            } else {
                match table.new_baseptr_within(memory, owner, bases.user, mfn, budget)? {
                    BaseSwitch::Switched { old } => old,
                    BaseSwitch::Unchanged => None,
                }
            };
            if let Some(old) = old {
                table.put_page_and_type_within(memory, old, budget);
            }
            Ok(NO_FLUSH)
        }
        MMUEXT_SET_LDT => {
            // `nr_ents` is the low half of the second argument.
            let entries = op.arg2 & 0xffff_ffff;
            GuestLdt::check(op.arg1, entries)?;
            if let Some(old) = bases.ldt.replace(op.arg1, entries as u32) {
                // The CPU stops showing the old pages before they go.
                guest.load_ldt(&bases.ldt.view());
                for typed in old.into_iter().flatten() {
                    table.put_page_and_type_within(memory, typed, budget);
                }
            }
            Ok(NO_FLUSH)
        }
        MMUEXT_CLEAR_PAGE => {
            // Like a write through a writable mapping: refused on page tables.
            let page = table.get_page_and_type(memory, mfn, owner, PageType::Writable)?;
            memory.zero_frame(mfn);
            table.put_page_and_type(memory, page);
            Ok(NO_FLUSH)
        }
        MMUEXT_COPY_PAGE => {
            let source = table.get_page(Mfn(op.arg2), owner)?;
            let destination = match table.get_page_and_type(memory, mfn, owner, PageType::Writable) {
                Ok(destination) => destination,
                Err(error) => {
                    table.put_page(source);
                    return Err(error);
                }
            };
            for word in 0..PAGE_SIZE / 8 {
                let value = memory.read_u64(Mfn(op.arg2).address() + word * 8);
                memory.write_u64(mfn.address() + word * 8, value);
            }
            table.put_page_and_type(memory, destination);
            table.put_page(source);
            Ok(NO_FLUSH)
        }
        // Cache flushes need cache-flush permission, which no guest has.
        MMUEXT_FLUSH_CACHE | MMUEXT_FLUSH_CACHE_GLOBAL => Err(Errno::EPERM),
        // Superpage marking is not supported (its MFN indexed an array
        // unchecked in XSA-167).
        MMUEXT_MARK_SUPER | MMUEXT_UNMARK_SUPER => Err(Errno::EOPNOTSUPP),
        _ => Err(Errno::ENOSYS),
    }
}

/// An `invlpg` of `address`, which must be canonical (`invlpg` of a
/// non-canonical address faults in ring 0).
fn invlpg(address: u64) -> Result<TlbFlush, Errno> {
    if is_canonical(address) {
        Ok(TlbFlush::Page(address))
    } else {
        Err(Errno::EINVAL)
    }
}
