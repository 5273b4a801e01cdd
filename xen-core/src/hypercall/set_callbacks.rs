//! `set_callbacks`: where the hypervisor enters the guest kernel for events,
//! failsafe returns and system calls.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::domain::vcpu::Callback;
use crate::mm::layout::is_canonical;
use xen_abi::errno::Errno;

/// `set_callbacks(event, failsafe, syscall)`: the three at once, as Xen's
/// `do_set_callbacks` registers them: without `CALLBACKF_mask_events` (so
/// neither the failsafe nor the syscall callback masks events afterwards),
/// each non-canonical address left out without a word, and always 0; the
/// 32-bit syscall and sysenter ones stay as they were.
pub fn set_callbacks<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [event, failsafe, syscall, ..] = args;
    let mut callbacks = context.domain.vcpu.callbacks();
    if is_canonical(event) {
        callbacks.event = event;
    }
    for (callback, address) in [(&mut callbacks.failsafe, failsafe), (&mut callbacks.syscall, syscall)] {
        if is_canonical(address) {
            *callback = Callback {
                address,
                masks_events: false,
            };
        }
    }
    context.domain.vcpu.set_callbacks(callbacks)?;
    Ok(Completion::Value(0))
}
