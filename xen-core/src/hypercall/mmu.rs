//! The PV MMU hypercalls: `mmu_update`, `update_va_mapping` and `mmuext_op`
//! (Xen's `public/xen.h`). The logic lives in `crate::mm` over the frame
//! table, which also carries out the TLB flushes and base loads each
//! request owes, before anything touches guest memory again.

use super::{Completion, HypercallContext};
use crate::arch::Platform;
use crate::mm::batch_progress::MmuBatch;
use crate::mm::budget::Budget;
use crate::mm::tlb_flush::{TlbFlush, carry_out};
use crate::mm::{mmu_update as updates, mmuext_op as extended, update_va_mapping as va_mapping};
use xen_abi::errno::Errno;

/// `mmu_update(list, count, done, foreigndom)`.
pub fn mmu_update<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let (memory, guest, m2p) = context.platform.memory_parts();
    let result = updates::apply_mmu_updates(context.frames, memory, guest, m2p, context.domain.id(), args);
    crash_on_implicit_grant_unmaps(context);
    result.map(completion)
}

/// `update_va_mapping(va, value, flags)` in the caller's current address space.
/// Inlined into the dispatcher: the most frequent page-table hypercall, whose
/// prologue and epilogue alone cost it 16 instructions.
#[inline(always)]
pub fn update_va_mapping<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    args: [u64; 5],
) -> Result<Completion, Errno> {
    let base = context.domain.vcpu.kernel_base.as_ref().ok_or(Errno::EINVAL)?.mfn();
    // A release the caller left unfinished comes first (it may hold the
    // frame this maps); if it does not finish now, the call is re-run.
    if context.frames.has_jobs() && !settled(context) {
        return Ok(Completion::Continue(args));
    }
    let (memory, guest, _) = context.platform.memory_parts();
    let result = va_mapping::remap_va(context.frames, memory, context.domain.id(), base, args);
    carry_out(context.frames, guest, *result.as_ref().unwrap_or(&TlbFlush::None));
    result.map(|_| Completion::Value(0))
}

/// Finishes the caller's unfinished releases within one invocation's budget;
/// whether they are done. Out of line: rarely anything is left.
#[cold]
#[inline(never)]
fn settled<P: Platform>(context: &mut HypercallContext<'_, P>) -> bool {
    let memory = context.platform.memory();
    let settled = context
        .frames
        .settle(memory, context.domain.id(), &mut Budget::per_invocation())
        .is_ok();
    // The release may have dropped a grant mapping with its table: this
    // caller's doing, not the next caller's.
    crash_on_implicit_grant_unmaps(context);
    settled
}

/// `mmuext_op(ops, count, done, foreigndom)`.
pub fn mmuext_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let (memory, guest, _) = context.platform.memory_parts();
    let caller = context.domain.id();
    let base = &mut context.domain.vcpu.kernel_base;
    let result = extended::apply_mmuext_ops(context.frames, memory, guest, caller, base, args);
    crash_on_implicit_grant_unmaps(context);
    result.map(completion)
}

/// A grant mapping went with a page table the guest dropped (higher up in
/// `mmu_update`, or by unpinning or switching tables): its references are
/// gone, but the grant stays pinned until `unmap_grant_ref`, which can no
/// longer find it. Xen crashes such a domain; so do we.
fn crash_on_implicit_grant_unmaps<P: Platform>(context: &mut HypercallContext<'_, P>) {
    if context.frames.take_implicit_grant_unmaps() > 0 {
        context
            .domain
            .crash("a grant mapping was dropped with its page table, not unmapped");
    }
}

/// A batch's outcome as a hypercall completion.
fn completion(batch: MmuBatch) -> Completion {
    match batch {
        MmuBatch::Done => Completion::Value(0),
        MmuBatch::Continue(args) => Completion::Continue(args),
    }
}
