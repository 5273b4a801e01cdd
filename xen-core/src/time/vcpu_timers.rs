//! A vCPU's timers: the one-shot timer of `set_timer_op`, the periodic tick
//! every PV vCPU starts with, and the timeout of `SCHEDOP_poll`.
//!
//! Deadlines are system time in nanoseconds. The one-shot and periodic
//! timers raise VIRQ_TIMER; the poll timeout only wakes the vCPU. As in Xen,
//! the periodic tick runs only while the vCPU runs (a blocked vCPU is woken
//! by its one-shot timer, never by the tick).

/// Xen's default periodic tick for PV vCPUs.
pub const DEFAULT_PERIOD_NS: u64 = 10_000_000;
/// Where `set_timer_op` sends a deadline that is negative or absurdly far
/// ahead: Linux produces those, and an immediate timer would spin a guest
/// that has nothing to wait for.
const FALLBACK_DELAY_NS: u64 = 100_000_000;
/// Deadlines this far ahead (about 13 days) count as wrapped.
const FAR_AHEAD_NS: u64 = 1 << 50;
/// Shortest period `VCPUOP_set_periodic_timer` accepts (Xen: 1 ms).
pub const MIN_PERIOD_NS: u64 = 1_000_000;

/// The timers of one vCPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VcpuTimers {
    /// The one-shot deadline.
    pub singleshot: Option<u64>,
    /// The periodic tick's period (ns); 0 when stopped.
    pub period: u64,
    /// When the periodic tick is next due while the vCPU runs.
    pub next_tick: u64,
    /// When a poll gives up.
    pub poll_timeout: Option<u64>,
}

impl Default for VcpuTimers {
    fn default() -> Self {
        VcpuTimers {
            singleshot: None,
            period: DEFAULT_PERIOD_NS,
            next_tick: DEFAULT_PERIOD_NS,
            poll_timeout: None,
        }
    }
}

/// What expired.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// VIRQ_TIMER is due (one-shot or tick).
    pub virq_timer: bool,
    /// The poll timeout passed.
    pub poll_timeout: bool,
}

impl VcpuTimers {
    /// `set_timer_op(deadline)` at `now`, with Xen's rules: 0 stops the
    /// timer; a deadline that is negative as a signed number, or more than
    /// 2^50 ns ahead, fires 100 ms from now; one in the past fires at once.
    pub fn set_singleshot(&mut self, deadline: u64, now: u64) {
        self.singleshot = match deadline {
            0 => None,
            _ if (deadline as i64) < 0 || deadline.saturating_sub(now) >= FAR_AHEAD_NS => Some(now + FALLBACK_DELAY_NS),
            _ => Some(deadline),
        };
    }

    /// Starts the periodic tick with `period` ns from `now` (0 stops it).
    pub fn set_period(&mut self, period: u64, now: u64) {
        self.period = period;
        self.next_tick = now.saturating_add(period);
    }

    /// Takes what is due at `now`. The tick counts only if `running`; a
    /// tick missed by more than a period is not replayed (one VIRQ, like a
    /// coalesced interrupt).
    pub fn expire(&mut self, now: u64, running: bool) -> Expired {
        let mut expired = Expired::default();
        if self.singleshot.is_some_and(|deadline| deadline <= now) {
            self.singleshot = None;
            expired.virq_timer = true;
        }
        if running && self.period != 0 && self.next_tick <= now {
            let missed = (now - self.next_tick) / self.period;
            self.next_tick += (missed + 1) * self.period;
            expired.virq_timer = true;
        }
        if self.poll_timeout.is_some_and(|deadline| deadline <= now) {
            self.poll_timeout = None;
            expired.poll_timeout = true;
        }
        expired
    }

    /// The earliest deadline that needs the hardware timer (the tick only
    /// while `running`).
    pub fn next_deadline(&self, running: bool) -> Option<u64> {
        let tick = (running && self.period != 0).then_some(self.next_tick);
        [self.singleshot, tick, self.poll_timeout].into_iter().flatten().min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_timer_op_follows_xens_rules() {
        let mut timers = VcpuTimers::default();
        let now = 5_000_000_000;
        timers.set_singleshot(now + 1_000, now);
        assert_eq!(timers.singleshot, Some(now + 1_000));
        timers.set_singleshot(0, now);
        assert_eq!(timers.singleshot, None, "0 cancels");
        timers.set_singleshot(u64::MAX, now);
        assert_eq!(timers.singleshot, Some(now + FALLBACK_DELAY_NS), "negative: 100 ms");
        timers.set_singleshot(now + (1 << 50), now);
        assert_eq!(
            timers.singleshot,
            Some(now + FALLBACK_DELAY_NS),
            "13 days ahead: 100 ms"
        );
        timers.set_singleshot(now - 1, now);
        assert_eq!(timers.singleshot, Some(now - 1), "the past fires at once");
        assert!(timers.expire(now, false).virq_timer);
        assert_eq!(timers.singleshot, None, "one shot");
        assert!(!timers.expire(now, false).virq_timer);
    }

    #[test]
    fn the_tick_runs_only_while_the_vcpu_runs_and_coalesces_misses() {
        let mut timers = VcpuTimers::default();
        timers.set_period(DEFAULT_PERIOD_NS, 0);
        assert_eq!(timers.next_deadline(false), None, "blocked: no tick to wait for");
        assert_eq!(timers.next_deadline(true), Some(DEFAULT_PERIOD_NS));
        assert!(!timers.expire(55_000_000, false).virq_timer);
        assert!(timers.expire(55_000_000, true).virq_timer);
        assert_eq!(timers.next_tick, 60_000_000, "five missed ticks make one VIRQ");
        timers.set_period(0, 55_000_000);
        assert!(!timers.expire(100_000_000, true).virq_timer);
    }

    #[test]
    fn the_poll_timeout_wakes_without_a_virq() {
        let mut timers = VcpuTimers {
            period: 0,
            poll_timeout: Some(10),
            ..VcpuTimers::default()
        };
        assert_eq!(timers.next_deadline(false), Some(10));
        let expired = timers.expire(10, false);
        assert_eq!(
            expired,
            Expired {
                virq_timer: false,
                poll_timeout: true
            }
        );
    }
}
