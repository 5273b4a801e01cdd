//! `set_timer_op(deadline)`: the vCPU's one-shot timer.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use xen_abi::errno::Errno;

/// Arms (or with 0 stops) the one-shot timer that raises VIRQ_TIMER; the
/// deadline is absolute system time. The kernel reprograms its hardware
/// timer on the way out, hence the reschedule request.
pub fn set_timer_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let now = context.platform.now_ns();
    context.domain.vcpu.timers.set_singleshot(args[0], now);
    context.reschedule = true;
    Ok(Completion::Value(0))
}
