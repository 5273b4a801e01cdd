//! `update_va_mapping(va, value, flags)` (Xen's `public/xen.h`): one L1
//! entry, found through the caller's current address space, and the TLB
//! flush it asks for.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use super::implicit_grant_unmaps::crash_on_implicit_grant_unmaps;
use crate::arch::Platform;
use crate::mm::budget::Budget;
use crate::mm::carry_out::carry_out;
use crate::mm::tlb_flush::TlbFlush;
use crate::mm::update_va_mapping::remap_va;
use xen_abi::errno::Errno;

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
    let result = remap_va(context.frames, memory, context.domain.id(), base, args);
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
