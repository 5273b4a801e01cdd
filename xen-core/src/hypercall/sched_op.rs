//! `sched_op`: yield, block, poll, shutdown.
//!
//! The calls that give up the CPU only change the vCPU's state and ask for a
//! reschedule; the kernel's scheduler switches away on the way out, and the
//! vCPU later resumes after its hypercall with the result written here.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::guest_copy::{element_address, read_from_guest};
use xen_abi::errno::Errno;
use xen_abi::event_channel::EvtchnPort;
use xen_abi::sched::{
    SCHED_POLL_MAX_PORTS, SCHEDOP_BLOCK, SCHEDOP_POLL, SCHEDOP_SHUTDOWN, SCHEDOP_YIELD, SHUTDOWN_WATCHDOG, SchedPoll,
    SchedShutdown,
};

/// `SHUTDOWN_soft_reset`, the highest reason Xen accepts.
const SHUTDOWN_MAX: u32 = SHUTDOWN_WATCHDOG + 1;

/// `sched_op(cmd, arg)`.
pub fn sched_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, argument, ..] = args;
    match u32::try_from(command) {
        Ok(SCHEDOP_YIELD) => {
            context.domain.vcpu.yielded = true;
            context.reschedule = true;
        }
        Ok(SCHEDOP_BLOCK) => block(context),
        Ok(SCHEDOP_POLL) => {
            let poll: SchedPoll = read_from_guest(context.platform.guest(), argument)?;
            self::poll(context, &poll)?;
        }
        Ok(SCHEDOP_SHUTDOWN) => {
            let shutdown: SchedShutdown = read_from_guest(context.platform.guest(), argument)?;
            if shutdown.reason > SHUTDOWN_MAX {
                return Err(Errno::EINVAL);
            }
            context.domain.flush_console(context.platform);
            context.domain.shut_down(shutdown.reason);
            context.reschedule = true;
        }
        _ => return Err(Errno::ENOSYS),
    }
    Ok(Completion::Value(0))
}

/// `SCHEDOP_block`: enables events, then sleeps unless one is already due
/// (Xen's `vcpu_block_enable_events`: testing after unmasking loses no
/// wake-up).
fn block<P: Platform>(context: &mut HypercallContext<'_, P>) {
    let memory = context.platform.memory();
    context.domain.set_events_masked(memory, false);
    if !context.domain.upcall_deliverable(memory) {
        context.domain.vcpu.block();
        context.reschedule = true;
    }
}

/// `SCHEDOP_poll`: sleeps until one of the ports is pending, an upcall is
/// due or the timeout (absolute system time, 0 for none) passes. Returns at
/// once if a port is pending already. Every port is checked against the
/// port table before its bit is read.
fn poll<P: Platform>(context: &mut HypercallContext<'_, P>, poll: &SchedPoll) -> Result<(), Errno> {
    if poll.nr_ports > SCHED_POLL_MAX_PORTS {
        return Err(Errno::EINVAL);
    }
    if context.domain.upcall_deliverable(context.platform.memory()) {
        return Ok(());
    }
    let bits = context.domain.event_bits();
    let mut only = None;
    for index in 0..u64::from(poll.nr_ports) {
        let address = element_address(poll.ports, index, size_of::<EvtchnPort>() as u64)?;
        let port: EvtchnPort = read_from_guest(context.platform.guest(), address)?;
        let port = context.domain.events.valid_port(port)?;
        if bits.is_pending(context.platform.memory(), port) {
            return Ok(());
        }
        only = Some(port);
    }
    let port = if poll.nr_ports == 1 { only } else { None };
    context
        .domain
        .vcpu
        .poll(port, (poll.timeout != 0).then_some(poll.timeout));
    context.reschedule = true;
    Ok(())
}
