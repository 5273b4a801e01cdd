//! What wakes dom0's main loop: a flag every port dom0 serves sets, and
//! VIRQ_DOM_EXC.

use core::sync::atomic::{AtomicBool, Ordering::SeqCst};
use xen_abi::event_channel::EvtchnPort;

/// Set by any port dom0 serves and by VIRQ_DOM_EXC: the main loop has work.
pub static WORK: AtomicBool = AtomicBool::new(false);

/// The handler of every port dom0 serves: wake the main loop.
pub fn work(_port: EvtchnPort) {
    WORK.store(true, SeqCst);
}
