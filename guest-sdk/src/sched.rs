//! `sched_op`: giving up the CPU and ending the domain.

use crate::XenError;
use crate::hypercall::raw;
use xen_abi::event_channel::EvtchnPort;
use xen_abi::hypercall::SCHED_OP;
use xen_abi::sched::{
    SCHEDOP_BLOCK, SCHEDOP_POLL, SCHEDOP_SHUTDOWN, SCHEDOP_YIELD, SHUTDOWN_CRASH, SHUTDOWN_POWEROFF, SchedPoll,
    SchedShutdown,
};

/// Gives up the CPU to other domains.
pub fn yield_now() -> Result<(), XenError> {
    XenError::check(raw(SCHED_OP, [u64::from(SCHEDOP_YIELD), 0, 0, 0, 0])).map(|_| ())
}

/// Sleeps until an event upcall is due (`SCHEDOP_block`); enables events.
pub fn block() -> Result<(), XenError> {
    XenError::check(raw(SCHED_OP, [u64::from(SCHEDOP_BLOCK), 0, 0, 0, 0])).map(|_| ())
}

/// Sleeps until one of `ports` is pending, an upcall is due, or system time
/// reaches `timeout` (0: no timeout). Returns at once if a port is pending
/// already: a pending port stays pending until it is cleared or closed.
pub fn poll(ports: &[EvtchnPort], timeout: u64) -> Result<(), XenError> {
    let argument = SchedPoll {
        ports: ports.as_ptr() as u64,
        nr_ports: ports.len() as u32,
        _pad0: 0,
        timeout,
    };
    XenError::check(raw(
        SCHED_OP,
        [u64::from(SCHEDOP_POLL), &argument as *const _ as u64, 0, 0, 0],
    ))
    .map(|_| ())
}

/// Sleeps until `condition()` holds or system time reaches `deadline`
/// (0: no deadline); whether the condition held. `condition` is checked
/// with events masked and the sleep (`SCHEDOP_block`) unmasks them in the
/// same step, so an event that makes it true cannot slip in between and be
/// slept through. Port handlers run while it sleeps (see
/// [`crate::upcall`]); it leaves events masked or not as it found them.
/// Needs [`crate::upcall::start`] first (EINVAL before), and must not be
/// called from a handler.
pub fn wait_until(deadline: u64, mut condition: impl FnMut() -> bool) -> Result<bool, XenError> {
    use crate::shared_info::SHARED_INFO;
    if !crate::upcall::started() {
        return Err(XenError {
            code: xen_abi::errno::Errno::EINVAL.as_return(),
        });
    }
    let was_masked = SHARED_INFO.events_masked();
    let result = loop {
        SHARED_INFO.set_events_masked(true);
        if condition() {
            break Ok(true);
        }
        if deadline != 0 {
            if crate::time::now() >= deadline {
                break Ok(false);
            }
            // Armed on every pass: a wake-up may come from the timer a
            // little before our clock reads the deadline, which uses it up.
            if let Err(error) = crate::time::arm_timer(deadline) {
                break Err(error);
            }
        }
        if let Err(error) = block() {
            break Err(error);
        }
    };
    if was_masked {
        SHARED_INFO.set_events_masked(true);
    } else {
        crate::upcall::enable_events();
    }
    result
}

/// Shuts the domain down with `reason` (`SHUTDOWN_*`); never returns.
pub fn shutdown(reason: u32) -> ! {
    let argument = SchedShutdown { reason };
    raw(
        SCHED_OP,
        [u64::from(SCHEDOP_SHUTDOWN), &argument as *const _ as u64, 0, 0, 0],
    );
    // A shutdown that returns is a hypervisor bug: stop here rather than run on.
    loop {
        core::hint::spin_loop();
    }
}

/// Powers the domain off: a clean end.
pub fn power_off() -> ! {
    shutdown(SHUTDOWN_POWEROFF)
}

/// Ends the domain with reason `crash`.
pub fn crash() -> ! {
    shutdown(SHUTDOWN_CRASH)
}
