//! `mmuext_op`: pins, base pointers, TLB flushes and page operations
//! (xen-pv-abi 9.3, 10.9, 10.10), a batch like `mmu_update`.
//!
//! TLB flushes and the CR3 reload a new base pointer needs are not done
//! here: they are returned as [`MmuextEffects`] for the kernel to carry out
//! before the guest runs again, also when a later request of the batch
//! fails (what went before it stands).

use super::batch_progress::{MmuBatch, batch_owners, run_batch};
use super::frame_table::FrameTable;
use super::layout::is_canonical;
use super::mfn::PAGE_SIZE;
use super::tlb_flush::TlbFlush;
use super::{Mfn, PageType, TableLevel, TypedRef};
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::domain::pv_domain::DomId;
use crate::guest_copy::read_from_guest;
use xen_abi::errno::Errno;
use xen_abi::mmu::*;

/// Requests handled per call before the batch preempts itself (fewer than
/// `mmu_update`'s: a pin may validate a whole tree).
pub const OPS_PER_CALL: u64 = 16;
/// Size of one `mmuext_op` request.
const OP_SIZE: u64 = 24;

/// What the kernel must do after the batch, whatever its result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmuextEffects {
    /// TLB entries to drop.
    pub flush: TlbFlush,
    /// The base pointer changed: load the new L4 into CR3.
    pub base_changed: bool,
}

/// Runs `mmuext_op(ops, count, done, foreigndom)` for `caller`, whose kernel
/// base pointer is `base`.
pub fn mmuext_op(
    table: &mut FrameTable<'_>,
    memory: &mut impl PhysicalMemory,
    guest: &mut impl GuestMemory,
    caller: DomId,
    base: &mut Option<TypedRef>,
    args: [u64; 5],
) -> (Result<MmuBatch, Errno>, MmuextEffects) {
    let mut effects = MmuextEffects::default();
    let result = batch_owners(caller, args[3]).and_then(|(owner, _)| {
        run_batch(guest, args, OP_SIZE, OPS_PER_CALL, |guest, op: &MmuextOp| {
            apply(table, memory, guest, owner, base, op, &mut effects)
        })
    });
    (result, effects)
}

/// One request.
fn apply(
    table: &mut FrameTable<'_>,
    memory: &mut impl PhysicalMemory,
    guest: &mut impl GuestMemory,
    owner: DomId,
    base: &mut Option<TypedRef>,
    op: &MmuextOp,
    effects: &mut MmuextEffects,
) -> Result<(), Errno> {
    let mfn = Mfn(op.arg1);
    let mut flush = |flush: TlbFlush| effects.flush = effects.flush.and(flush);
    match op.cmd {
        MMUEXT_PIN_L1_TABLE => table.pin(memory, mfn, owner, TableLevel::L1),
        MMUEXT_PIN_L2_TABLE => table.pin(memory, mfn, owner, TableLevel::L2),
        MMUEXT_PIN_L3_TABLE => table.pin(memory, mfn, owner, TableLevel::L3),
        MMUEXT_PIN_L4_TABLE => table.pin(memory, mfn, owner, TableLevel::L4),
        MMUEXT_UNPIN_TABLE => table.unpin(memory, mfn, owner),
        MMUEXT_NEW_BASEPTR => {
            table.new_baseptr(memory, owner, base, mfn)?;
            effects.base_changed = true;
            Ok(())
        }
        MMUEXT_TLB_FLUSH_LOCAL | MMUEXT_TLB_FLUSH_ALL => {
            flush(TlbFlush::All);
            Ok(())
        }
        MMUEXT_TLB_FLUSH_MULTI | MMUEXT_INVLPG_MULTI => {
            // The vCPU mask must be readable even though, with one vCPU,
            // flushing it is flushing everything we have.
            let _mask: u64 = read_from_guest(guest, op.arg2)?;
            flush(if op.cmd == MMUEXT_INVLPG_MULTI {
                invlpg(op.arg1)?
            } else {
                TlbFlush::All
            });
            Ok(())
        }
        MMUEXT_INVLPG_LOCAL | MMUEXT_INVLPG_ALL => {
            flush(invlpg(op.arg1)?);
            Ok(())
        }
        // No LDT and no user mode yet: only "none" is accepted.
        MMUEXT_SET_LDT if op.arg2 == 0 => Ok(()),
        MMUEXT_NEW_USER_BASEPTR if op.arg1 == 0 => Ok(()),
        MMUEXT_SET_LDT | MMUEXT_NEW_USER_BASEPTR => Err(Errno::EINVAL),
        MMUEXT_CLEAR_PAGE => {
            // Like a write through a writable mapping: refused on page tables.
            let page = table.get_page_and_type(memory, mfn, owner, PageType::Writable)?;
            memory.zero_frame(mfn);
            table.put_page_and_type(memory, page);
            Ok(())
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
            Ok(())
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
