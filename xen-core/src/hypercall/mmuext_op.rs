//! `mmuext_op(ops, count, done, foreigndom)` (Xen's `public/xen.h`): pins,
//! base pointers and TLB flushes, in a batch. The logic lives in
//! `crate::mm` over the frame table.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use super::implicit_grant_unmaps::crash_on_implicit_grant_unmaps;
use crate::arch::Platform;
use crate::mm::base_pointer::BasePointers;
use crate::mm::mmuext_op::apply_mmuext_ops;
use xen_abi::errno::Errno;

/// `mmuext_op(ops, count, done, foreigndom)`.
pub fn mmuext_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let (memory, guest, _) = context.platform.memory_parts();
    let caller = context.domain.id();
    let vcpu = &mut context.domain.vcpu;
    let bases = BasePointers {
        kernel: &mut vcpu.kernel_base,
        user: &mut vcpu.user_base,
        ldt: &mut vcpu.ldt,
    };
    let result = apply_mmuext_ops(context.frames, memory, guest, caller, bases, args);
    crash_on_implicit_grant_unmaps(context);
    result.map(Completion::from)
}
