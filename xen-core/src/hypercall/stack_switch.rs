//! `stack_switch`: the guest kernel's stack for bounces from user mode.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use xen_abi::errno::Errno;

/// `stack_switch(ss, rsp)`: the kernel stack for bounces from user mode.
pub fn stack_switch<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [ss, rsp, ..] = args;
    let Ok(ss) = u16::try_from(ss) else {
        return Err(Errno::EINVAL);
    };
    context.domain.vcpu.set_kernel_stack(ss, rsp);
    Ok(Completion::Value(0))
}
