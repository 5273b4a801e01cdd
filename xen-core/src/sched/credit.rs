//! Weighted fair sharing of CPU time, in the manner of Xen's credit scheduler.
//!
//! Every accounting period each active vCPU is given credit, nanoseconds of
//! CPU time, in proportion to its weight: with weights 256 and 512 on one
//! CPU and a 30 ms period, 10 ms and 20 ms. Running burns credit at the rate
//! of real time. The vCPU with the most credit runs next (ties go to the one
//! that waited longest), for at most one time slice. A vCPU that wakes with
//! credit left is boosted, as in Xen: it goes before every unboosted vCPU,
//! however much credit they have, until it is next charged for running. So
//! a timer or an event gets its vCPU onto the CPU at once rather than at
//! the end of a CPU-bound vCPU's slice, and since the boost lasts one run
//! and needs credit, it cannot take more than the vCPU's share. A cap
//! limits a vCPU to a percentage of one CPU per period even when the CPU
//! would otherwise idle.
//!
//! Nothing here knows how many CPUs there are beyond the count it is given:
//! the credit handed out per period is the period times that count, and
//! which vCPUs are candidates on a CPU is the caller's choice.

use core::cmp::Reverse;
use xen_abi::sched::CSCHED_DEFAULT_WEIGHT;

/// Accounting period (Xen's credit scheduler: 30 ms).
pub const PERIOD_NS: u64 = 30_000_000;
/// Longest a vCPU runs before the scheduler looks again.
pub const SLICE_NS: u64 = 10_000_000;

/// A vCPU's share: weight and cap, as `xl sched-credit` sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedParams {
    /// Relative weight, 1 to 65535.
    pub weight: u16,
    /// Most CPU it may use, in percent of one CPU; 0 for no cap.
    pub cap: u16,
}

impl Default for SchedParams {
    fn default() -> Self {
        SchedParams {
            weight: CSCHED_DEFAULT_WEIGHT,
            cap: 0,
        }
    }
}

/// The scheduler's view of one vCPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedEntity {
    /// Weight and cap.
    pub params: SchedParams,
    /// CPU time it may still use this period before others go first (ns);
    /// negative once it has used more than its share.
    credit: i64,
    /// CPU time used since the last accounting (ns).
    used_in_period: u64,
    /// Over its cap: not to run until the next accounting.
    parked: bool,
    /// When it was last picked: ties go to the one that waited longest.
    last_picked: u64,
    /// CPU time used since it was created (ns).
    total_run: u64,
    /// Woke with credit left and has not run since: goes first.
    boosted: bool,
}

impl SchedEntity {
    /// A vCPU with these parameters and no credit yet.
    pub fn new(params: SchedParams) -> Self {
        SchedEntity {
            params: SchedParams {
                weight: params.weight.max(1),
                ..params
            },
            ..SchedEntity::default()
        }
    }

    /// CPU time it has used since it was created (ns).
    pub fn total_run(&self) -> u64 {
        self.total_run
    }

    /// Its credit (ns).
    pub fn credit(&self) -> i64 {
        self.credit
    }

    /// Whether it woke with credit and goes before unboosted vCPUs.
    pub fn is_boosted(&self) -> bool {
        self.boosted
    }

    /// Its vCPU woke from blocking or polling: boosted if it has credit
    /// left and is not over its cap.
    pub fn wake(&mut self) {
        self.boosted = self.credit >= 0 && !self.parked;
    }

    /// Whether its cap keeps it off the CPU until the next accounting.
    pub fn is_parked(&self) -> bool {
        self.parked
    }

    /// Whether it counts for this period's credit: it wants to run, or it
    /// ran since the last accounting.
    fn is_active(&self, runnable: bool) -> bool {
        runnable || self.used_in_period > 0
    }
}

/// The scheduler of one pool of CPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreditScheduler {
    /// CPUs whose time is shared out.
    cpus: u32,
    /// Accounting period (ns).
    period: u64,
    /// Longest run without a scheduling decision (ns).
    slice: u64,
    /// When accounting is next due (system time, ns).
    next_accounting: u64,
}

impl CreditScheduler {
    /// A scheduler for `cpus` CPUs with Xen's period and a 10 ms slice.
    pub const fn new(cpus: u32) -> Self {
        CreditScheduler {
            cpus,
            period: PERIOD_NS,
            slice: SLICE_NS,
            next_accounting: 0,
        }
    }

    /// The longest a vCPU picked at `now` may run before the scheduler looks
    /// again: the end of its slice or the next accounting, whichever is first.
    pub fn run_until(&self, now: u64) -> u64 {
        (now + self.slice).min(self.next_accounting.max(now + 1))
    }

    /// Charges `ran` ns of CPU time to `entity`, parking it if that takes
    /// it over its cap.
    pub fn charge(&self, entity: &mut SchedEntity, ran: u64) {
        entity.credit = entity.credit.saturating_sub(ran.min(i64::MAX as u64) as i64);
        entity.used_in_period = entity.used_in_period.saturating_add(ran);
        entity.total_run = entity.total_run.saturating_add(ran);
        // Only running ends a boost: charging nothing (a second look in the
        // same scheduling pass) must not take away a fresh one.
        if ran > 0 {
            entity.boosted = false;
        }
        if entity.params.cap != 0 && entity.used_in_period * 100 >= self.period * u64::from(entity.params.cap) {
            entity.parked = true;
        }
    }

    /// Shares out a period's credit if accounting is due at `now`: each
    /// active entity (runnable, or it ran this period) gets the period's CPU
    /// time times its weight over the active weights. Credit stays within
    /// one period either way, so a vCPU cannot hoard time while it sleeps
    /// nor sink so deep that it starves after a burst. `entities` pairs
    /// each entity with whether it is runnable.
    pub fn account(&mut self, now: u64, entities: &mut [(&mut SchedEntity, bool)]) {
        if now < self.next_accounting {
            return;
        }
        self.next_accounting = if now - self.next_accounting >= self.period {
            now + self.period
        } else {
            self.next_accounting + self.period
        };
        let active_weight: u64 = entities
            .iter()
            .filter(|(entity, runnable)| entity.is_active(*runnable))
            .map(|(entity, _)| u64::from(entity.params.weight))
            .sum();
        let budget = self.period * u64::from(self.cpus);
        let limit = self.period as i64;
        // What an entity cannot hold (it is at the upper limit: it does not
        // use its share) goes to those that can, by weight. Without this a
        // light vCPU's unused share would be lost, the busy ones would sink
        // together to the lower limit, and the limit would even out their
        // debts: their shares would drift towards equal.
        let mut surplus = 0;
        for (entity, runnable) in entities.iter_mut() {
            if active_weight > 0 && entity.is_active(*runnable) {
                let share = (budget * u64::from(entity.params.weight) / active_weight) as i64;
                let credit = entity.credit.saturating_add(share);
                surplus += (credit - limit).max(0);
                entity.credit = credit.clamp(-limit, limit);
            }
        }
        let open = |entity: &SchedEntity, runnable: bool| entity.is_active(runnable) && entity.credit < limit;
        let open_weight: u64 = entities
            .iter()
            .filter(|(entity, runnable)| open(entity, *runnable))
            .map(|(entity, _)| u64::from(entity.params.weight))
            .sum();
        if surplus > 0 && open_weight > 0 {
            for (entity, runnable) in entities.iter_mut() {
                if open(entity, *runnable) {
                    let extra = (surplus as u64 * u64::from(entity.params.weight) / open_weight) as i64;
                    entity.credit = entity.credit.saturating_add(extra).min(limit);
                }
            }
        }
        for (entity, _) in entities.iter_mut() {
            entity.used_in_period = 0;
            entity.parked = false;
        }
    }

    /// Picks the next to run at `now` from `candidates` (runnable vCPUs not
    /// running on another CPU, with a key to name them): the one with most
    /// credit, ties to the one picked longest ago; boosted ones before all
    /// others; parked ones never.
    pub fn pick<'a, K>(&self, now: u64, candidates: impl Iterator<Item = (K, &'a mut SchedEntity)>) -> Option<K> {
        // On a full tie the first candidate wins (min_by_key keeps the first).
        let (key, entity) = candidates
            .filter(|(_, entity)| !entity.parked)
            .min_by_key(|(_, entity)| (!entity.boosted, Reverse(entity.credit), entity.last_picked))?;
        entity.last_picked = now;
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Runs CPU-bound entities (always runnable) on one CPU for `duration`
    /// ns, each pick running until the scheduler's next decision; returns
    /// each one's CPU time.
    fn run_cpu_bound(entities: &mut [SchedEntity], duration: u64) -> Vec<u64> {
        let mut scheduler = CreditScheduler::new(1);
        let mut now = 0;
        while now < duration {
            let mut all: Vec<_> = entities.iter_mut().map(|entity| (entity, true)).collect();
            scheduler.account(now, &mut all);
            let picked = scheduler.pick(now, entities.iter_mut().enumerate());
            let until = scheduler.run_until(now);
            if let Some(index) = picked {
                scheduler.charge(&mut entities[index], until - now);
            }
            now = until;
        }
        entities.iter().map(SchedEntity::total_run).collect()
    }

    fn weighted(weights: &[u16]) -> Vec<SchedEntity> {
        weights
            .iter()
            .map(|&weight| SchedEntity::new(SchedParams { weight, cap: 0 }))
            .collect()
    }

    #[test]
    fn weights_256_and_512_share_one_cpu_1_to_2() {
        let mut entities = weighted(&[256, 512]);
        let run = run_cpu_bound(&mut entities, 3_000_000_000);
        let ratio = run[1] as f64 / run[0] as f64;
        assert!((ratio - 2.0).abs() < 0.05, "ratio {ratio}: {run:?}");
        assert_eq!(run[0] + run[1], 3_000_000_000, "the CPU never idles with work to do");
    }

    #[test]
    fn a_light_vcpu_leaves_its_unused_share_to_the_busy_ones() {
        // Entity 0 wakes every millisecond and runs 20 us (with a boost), as
        // a domain sleeping on short timers does; 1 and 2 never stop.
        let mut scheduler = CreditScheduler::new(1);
        let mut entities = weighted(&[256, 256, 512]);
        let mut now = 0;
        while now < 3_000_000_000 {
            entities[0].wake();
            let mut all: Vec<_> = entities.iter_mut().map(|entity| (entity, true)).collect();
            scheduler.account(now, &mut all);
            if scheduler.pick(now, entities.iter_mut().enumerate()) == Some(0) {
                scheduler.charge(&mut entities[0], 20_000);
                now += 20_000;
            }
            let tick_end = (now / 1_000_000 + 1) * 1_000_000;
            while now < tick_end {
                let mut all: Vec<_> = entities
                    .iter_mut()
                    .enumerate()
                    .map(|(i, entity)| (entity, i > 0))
                    .collect();
                scheduler.account(now, &mut all);
                let picked = scheduler.pick(now, entities[1..].iter_mut().enumerate()).unwrap();
                let until = scheduler.run_until(now).min(tick_end);
                scheduler.charge(&mut entities[1 + picked], until - now);
                now = until;
            }
        }
        let run: Vec<u64> = entities.iter().map(SchedEntity::total_run).collect();
        let ratio = run[2] as f64 / run[1] as f64;
        assert!((ratio - 2.0).abs() < 0.04, "ratio {ratio}: {run:?}");
        assert!(run[0] >= 2_900 * 20_000, "the light one ran at every wake-up: {run:?}");
    }

    #[test]
    fn equal_weights_alternate_and_share_evenly() {
        let mut entities = weighted(&[256, 256, 256]);
        let run = run_cpu_bound(&mut entities, 900_000_000);
        for time in &run {
            assert_eq!(*time, 300_000_000, "{run:?}");
        }
    }

    #[test]
    fn a_cap_holds_a_vcpu_to_its_percentage_even_on_an_idle_cpu() {
        let mut entities = [SchedEntity::new(SchedParams { weight: 256, cap: 25 })];
        let run = run_cpu_bound(&mut entities, 3_000_000_000);
        let share = run[0] as f64 / 3e9;
        // It runs a whole slice before the cap bites: 10 ms of each 30 ms.
        assert!(share <= 0.34, "share {share}");
        assert!(share >= 0.25, "share {share}");
    }

    #[test]
    fn a_sleeper_does_not_hoard_credit() {
        let mut scheduler = CreditScheduler::new(1);
        let mut sleeper = SchedEntity::new(SchedParams::default());
        for period in 0..100 {
            // Runnable at every accounting but never charged: the credit
            // stops growing at one period.
            scheduler.account(period * PERIOD_NS, &mut [(&mut sleeper, true)]);
        }
        assert_eq!(sleeper.credit(), PERIOD_NS as i64);
    }

    #[test]
    fn an_idle_vcpu_gets_no_share_and_the_busy_one_gets_all() {
        let mut scheduler = CreditScheduler::new(1);
        let mut busy = SchedEntity::new(SchedParams::default());
        let mut idle = SchedEntity::new(SchedParams::default());
        scheduler.account(0, &mut [(&mut busy, true), (&mut idle, false)]);
        assert_eq!(busy.credit(), PERIOD_NS as i64);
        assert_eq!(idle.credit(), 0);
    }

    #[test]
    fn a_vcpu_waking_with_credit_goes_before_a_richer_busy_one_for_one_run() {
        let mut scheduler = CreditScheduler::new(1);
        let mut entities = weighted(&[512, 256]);
        {
            let (busy, sleeper) = entities.split_at_mut(1);
            scheduler.account(0, &mut [(&mut busy[0], true), (&mut sleeper[0], true)]);
        }
        assert!(entities[0].credit() > entities[1].credit());
        entities[1].wake();
        assert!(entities[1].is_boosted());
        scheduler.charge(&mut entities[1], 0);
        assert!(entities[1].is_boosted(), "charging nothing keeps a fresh boost");
        assert_eq!(scheduler.pick(1, entities.iter_mut().enumerate()), Some(1));
        scheduler.charge(&mut entities[1], 1_000);
        assert!(!entities[1].is_boosted(), "the boost lasts one run");
        assert_eq!(scheduler.pick(2, entities.iter_mut().enumerate()), Some(0));
    }

    #[test]
    fn a_vcpu_waking_in_debt_is_not_boosted() {
        let scheduler = CreditScheduler::new(1);
        let mut entity = SchedEntity::new(SchedParams::default());
        scheduler.charge(&mut entity, 1);
        entity.wake();
        assert!(!entity.is_boosted());
    }

    #[test]
    fn ties_go_to_the_one_that_waited_longest() {
        let scheduler = CreditScheduler::new(1);
        let mut entities = weighted(&[256, 256]);
        let first = scheduler.pick(10, entities.iter_mut().enumerate()).unwrap();
        let second = scheduler.pick(20, entities.iter_mut().enumerate()).unwrap();
        assert_ne!(first, second);
        let third = scheduler.pick(30, entities.iter_mut().enumerate()).unwrap();
        assert_eq!(third, first);
    }

    #[test]
    fn the_slice_ends_at_the_next_accounting_when_that_is_sooner() {
        let mut scheduler = CreditScheduler::new(2);
        scheduler.account(0, &mut []);
        assert_eq!(scheduler.run_until(0), SLICE_NS);
        assert_eq!(scheduler.run_until(25_000_000), PERIOD_NS);
        let mut entity = SchedEntity::new(SchedParams::default());
        scheduler.account(PERIOD_NS, &mut [(&mut entity, true)]);
        assert_eq!(
            entity.credit(),
            PERIOD_NS as i64,
            "two CPUs' budget, clamped to one period"
        );
    }
}
