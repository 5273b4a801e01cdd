//! `mmu_update(list, count, done, foreigndom)` (Xen's `public/xen.h`): a
//! batch of page-table writes and machine-to-phys updates. The logic lives
//! in `crate::mm` over the frame table, which also carries out the TLB
//! flushes each request owes before anything touches guest memory again.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use super::implicit_grant_unmaps::crash_on_implicit_grant_unmaps;
use crate::arch::Platform;
use crate::mm::mmu_update::apply_mmu_updates;
use xen_abi::errno::Errno;

/// `mmu_update(list, count, done, foreigndom)`.
pub fn mmu_update<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let (memory, guest, m2p) = context.platform.memory_parts();
    let result = apply_mmu_updates(context.frames, memory, guest, m2p, context.domain.id(), args);
    crash_on_implicit_grant_unmaps(context);
    result.map(Completion::from)
}
