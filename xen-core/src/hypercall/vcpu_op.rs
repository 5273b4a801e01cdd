//! `vcpu_op(cmd, vcpu, arg)`: the timers of a vCPU, and whether it is up.
//!
//! Every domain has exactly vCPU 0, so other ids are `-ENOENT`; bringing
//! vCPUs up and down, runstate areas and moving `vcpu_info` are not offered.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::guest_copy::read_from_guest;
use crate::time::vcpu_timers::MIN_PERIOD_NS;
use xen_abi::errno::Errno;
use xen_abi::vcpu::*;

/// Longest periodic tick Xen accepts (its `STIME_DELTA_MAX`, about 4.3 s).
const MAX_PERIOD_NS: u64 = (1 << 32) - 1;

/// `vcpu_op(cmd, vcpu, arg)`.
pub fn vcpu_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, vcpu, argument, ..] = args;
    if vcpu != 0 {
        return Err(Errno::ENOENT);
    }
    let now = context.platform.now_ns();
    let timers = &mut context.domain.vcpu.timers;
    match u32::try_from(command) {
        Ok(VCPUOP_IS_UP) => return Ok(Completion::Value(1)),
        Ok(VCPUOP_SET_PERIODIC_TIMER) => {
            let set: VcpuSetPeriodicTimer = read_from_guest(context.platform.guest(), argument)?;
            if !(MIN_PERIOD_NS..=MAX_PERIOD_NS).contains(&set.period_ns) {
                return Err(Errno::EINVAL);
            }
            context.domain.vcpu.timers.set_period(set.period_ns, now);
        }
        Ok(VCPUOP_STOP_PERIODIC_TIMER) => timers.set_period(0, now),
        Ok(VCPUOP_SET_SINGLESHOT_TIMER) => {
            let set: VcpuSetSingleshotTimer = read_from_guest(context.platform.guest(), argument)?;
            let future = SingleshotTimerFlags::from_bits_retain(set.flags).contains(SingleshotTimerFlags::FUTURE);
            if future && set.timeout_abs_ns < now {
                return Err(Errno::ETIME);
            }
            context.domain.vcpu.timers.singleshot = Some(set.timeout_abs_ns);
        }
        Ok(VCPUOP_STOP_SINGLESHOT_TIMER) => timers.singleshot = None,
        _ => return Err(Errno::ENOSYS),
    }
    context.reschedule = true;
    Ok(Completion::Value(0))
}
