//! The one-shot timer (`set_timer_op`) and its VIRQ_TIMER, which the SDK
//! binds itself on first use.

use super::clock::now;
use crate::XenError;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use xen_abi::event_channel::{EvtchnPort, VIRQ_TIMER};

/// Our VIRQ_TIMER port; 0 until bound.
static TIMER_PORT: AtomicU32 = AtomicU32::new(0);

/// Arms the one-shot timer for `deadline`, binding VIRQ_TIMER first if
/// needed (its handler does nothing: the wake-up is the point). One timer
/// per domain: a later call replaces the deadline.
pub fn arm_timer(deadline: u64) -> Result<(), XenError> {
    if TIMER_PORT.load(Ordering::Relaxed) == 0 {
        let port = crate::event_channel::bind_virq(VIRQ_TIMER)?;
        crate::upcall::set_handler(port, timer_fired)?;
        TIMER_PORT.store(port, Ordering::Relaxed);
    }
    crate::hypercall::set_timer_op(deadline.max(1))
}

/// System time when VIRQ_TIMER's handler last ran; 0 before.
static LAST_TIMER: AtomicU64 = AtomicU64::new(0);

/// System time (ns) at which the upcall last handled VIRQ_TIMER: no
/// earlier than the deadline that raised it, if the hypervisor keeps time.
pub fn last_timer_upcall() -> u64 {
    LAST_TIMER.load(Ordering::Relaxed)
}

/// VIRQ_TIMER's handler: waking up is the point; it notes when.
fn timer_fired(_port: EvtchnPort) {
    LAST_TIMER.store(now(), Ordering::Relaxed);
}
