//! The PV MMU hypercalls: `mmu_update`, `update_va_mapping` and `mmuext_op`
//! (xen-pv-abi 9.1–9.3). The logic lives in `crate::mm` over the frame table;
//! here the platform carries out what it leaves to the machine: TLB flushes
//! and loading a new base pointer into CR3, done before the guest runs again
//! whatever the hypercall's result, since what succeeded before a failure
//! stands.

use super::{Completion, HypercallContext};
use crate::arch::Platform;
use crate::mm::batch_progress::MmuBatch;
use crate::mm::mmuext_op::MmuextEffects;
use crate::mm::tlb_flush::TlbFlush;
use crate::mm::{mmu_update as updates, mmuext_op as extended, update_va_mapping as va_mapping};
use xen_abi::errno::Errno;

/// `mmu_update(list, count, done, foreigndom)`.
pub fn mmu_update<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let (memory, guest, m2p) = context.platform.memory_parts();
    let (result, flush) = updates::mmu_update(context.frames, memory, guest, m2p, context.domain.id, args);
    flush_for(context, flush);
    crash_on_implicit_grant_unmaps(context);
    result.map(completion)
}

/// `update_va_mapping(va, value, flags)` in the caller's current address space.
pub fn update_va_mapping<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    args: [u64; 5],
) -> Result<Completion, Errno> {
    let base = context.domain.vcpu.kernel_base.as_ref().ok_or(Errno::EINVAL)?.mfn();
    let memory = context.platform.memory();
    match va_mapping::update_va_mapping(context.frames, memory, context.domain.id, base, args) {
        Ok(flush) => {
            flush_for(context, flush);
            Ok(Completion::Value(0))
        }
        Err(errno) => {
            flush_for(context, TlbFlush::None);
            Err(errno)
        }
    }
}

/// `mmuext_op(ops, count, done, foreigndom)`.
pub fn mmuext_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let (memory, guest, _) = context.platform.memory_parts();
    let base = &mut context.domain.vcpu.kernel_base;
    let (result, effects) = extended::mmuext_op(context.frames, memory, guest, context.domain.id, base, args);
    let MmuextEffects { flush, base_changed } = effects;
    match context.domain.vcpu.kernel_base.as_ref() {
        // Loading CR3 flushes every TLB entry (the hypervisor's own mappings
        // are not global), so no other flush is owed; nor is the one a newly
        // validated table asks for.
        Some(base) if base_changed => {
            context.platform.load_page_table_base(base.mfn());
            let _ = context.frames.take_flush_request();
        }
        _ => flush_for(context, flush),
    }
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

/// Carries out `flush`, widened to everything if a frame became a page
/// table: a writable TLB entry for it may have outlived its last writable
/// mapping.
fn flush_for<P: Platform>(context: &mut HypercallContext<'_, P>, flush: TlbFlush) {
    let flush = if context.frames.take_flush_request() {
        TlbFlush::All
    } else {
        flush
    };
    if flush != TlbFlush::None {
        context.platform.flush_tlb(flush);
    }
}

/// A batch's outcome as a hypercall completion.
fn completion(batch: MmuBatch) -> Completion {
    match batch {
        MmuBatch::Done => Completion::Value(0),
        MmuBatch::Continue(args) => Completion::Continue(args),
    }
}
