//! The rule for grant mappings a page-table hypercall drops implicitly.

use super::hypercall_context::HypercallContext;
use crate::arch::Platform;

/// A grant mapping went with a page table the guest dropped (higher up in
/// `mmu_update`, or by unpinning or switching tables): its references are
/// gone, but the grant stays pinned until `unmap_grant_ref`, which can no
/// longer find it. Xen crashes such a domain; so do we.
pub fn crash_on_implicit_grant_unmaps<P: Platform>(context: &mut HypercallContext<'_, P>) {
    if context.frames.take_implicit_grant_unmaps() > 0 {
        context
            .domain
            .crash("a grant mapping was dropped with its page table, not unmapped");
    }
}
