//! Time: the time-stamp counter, and Xen system time from `vcpu_time_info`.
//!
//! System time is nanoseconds since boot. The hypervisor publishes, per vCPU,
//! a snapshot (`system_time` at TSC `tsc_timestamp`) and a scale (`mul`,
//! `shift`); the guest extrapolates with its own TSC. The snapshot is guarded
//! by a seqlock: `version` is odd while the hypervisor writes it.
//!
//! [`now`] reads it once [`crate::upcall::start`] has mapped shared_info;
//! [`sleep`] and [`sleep_until`] wait for a one-shot timer (`set_timer_op`),
//! which raises VIRQ_TIMER: the SDK binds that VIRQ itself, on first use.
//!
//! The clock (`clock.rs`) and the timer (`timer.rs`) sit below
//! [`crate::sched`], whose `wait_until` uses them; the sleeps sit above it.

mod clock;
mod timer;

pub use clock::{now, rdtsc, scale_delta, system_time, system_time_at};
pub use timer::{arm_timer, last_timer_upcall};

use crate::XenError;

/// Sleeps for `duration` nanoseconds of system time (other domains run
/// meanwhile). Returns with events enabled.
pub fn sleep(duration: u64) -> Result<(), XenError> {
    sleep_until(now().saturating_add(duration))
}

/// Sleeps until system time reaches `deadline` (ns).
pub fn sleep_until(deadline: u64) -> Result<(), XenError> {
    crate::sched::wait_until(deadline, || false).map(drop)
}
