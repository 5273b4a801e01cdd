//! `set_callbacks`: where the hypervisor enters the guest kernel for events,
//! failsafe returns and system calls.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::domain::vcpu::Callbacks;
use xen_abi::errno::Errno;

/// `set_callbacks(event, failsafe, syscall)`.
pub fn set_callbacks<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [event, failsafe, syscall, ..] = args;
    let callbacks = Callbacks {
        event,
        failsafe,
        syscall,
    };
    context.domain.vcpu.set_callbacks(callbacks)?;
    Ok(Completion::Value(0))
}
