//! One physical CPU's scheduling: what it runs, the timers it fires, the
//! next vCPU it picks and when it must look again.
//!
//! The kernel calls these from its timer interrupt, after hypercalls that
//! asked for a reschedule, and from its idle loop; it does the switching
//! itself (registers, page tables, FPU). Each domain has one vCPU, so a
//! domain id names a vCPU.

use super::credit::CreditScheduler;
use crate::arch::PhysicalMemory;
use crate::domain::domain_table::DomainTable;
use heapless::Vec;
use xen_abi::event_channel::VIRQ_TIMER;
use xen_abi::mmu::DomId;

/// The scheduling state of one physical CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpu {
    /// The domain whose vCPU is on the CPU; `None` while it idles.
    pub current: Option<DomId>,
    /// When `current` was last charged for its time (system time, ns).
    pub since: u64,
    /// Time spent idle, halted with nothing to run (ns).
    pub idle: u64,
}

impl Cpu {
    /// Fires every timer due at `now`: one-shot timers and the running
    /// vCPU's tick raise VIRQ_TIMER, poll timeouts wake their vCPU. Returns
    /// whether any vCPU woke.
    pub fn run_timers(&self, domains: &mut DomainTable, memory: &mut impl PhysicalMemory, now: u64) -> bool {
        let mut woke = false;
        for domain in domains.iter_mut().filter(|domain| domain.is_running()) {
            let running = self.current == Some(domain.id());
            let expired = domain.vcpu.timers.expire(now, running);
            if expired.virq_timer {
                woke |= domain.raise_virq(memory, VIRQ_TIMER);
            }
            if expired.poll_timeout && !domain.vcpu.run_state().is_runnable() {
                domain.wake();
                woke = true;
            }
        }
        woke
    }

    /// Charges the running vCPU for its time up to `now` and picks the next
    /// to run: the credit scheduler's choice among runnable vCPUs of running
    /// domains; a vCPU that yielded goes last this once. `None`: idle.
    pub fn choose(&mut self, scheduler: &mut CreditScheduler, domains: &mut DomainTable, now: u64) -> Option<DomId> {
        self.charge_until(scheduler, domains, now);
        {
            let mut entities: Vec<_, { crate::domain::domain_table::MAX_DOMAINS }> = Vec::new();
            for domain in domains.iter_mut() {
                let runnable = domain.is_running() && domain.vcpu.run_state().is_runnable();
                if runnable {
                    // Woken since the last pass (a wake asks for one at
                    // once): it waits as runnable from now, as on Xen.
                    domain.vcpu.runstate.woke(now);
                }
                // The table has no more domains than the vector has room.
                let _ = entities.push((&mut domain.vcpu.sched, runnable));
            }
            scheduler.account(now, &mut entities);
        }
        let yielded = domains
            .iter()
            .find(|domain| domain.vcpu.yielded)
            .map(|domain| domain.id());
        let candidates = |skip: Option<DomId>| {
            move |domain: &&mut crate::domain::pv_domain::PvDomain| {
                domain.is_running() && domain.vcpu.run_state().is_runnable() && Some(domain.id()) != skip
            }
        };
        let mut choice = scheduler.pick(
            now,
            domains
                .iter_mut()
                .filter(candidates(yielded))
                .map(|domain| (domain.id(), &mut domain.vcpu.sched)),
        );
        if choice.is_none() {
            choice = scheduler.pick(
                now,
                domains
                    .iter_mut()
                    .filter(candidates(None))
                    .map(|domain| (domain.id(), &mut domain.vcpu.sched)),
            );
        }
        for domain in domains.iter_mut() {
            domain.vcpu.yielded = false;
        }
        choice
    }

    /// Charges the time since the last charge to the running vCPU, or to
    /// idle if none runs.
    pub fn charge_until(&mut self, scheduler: &CreditScheduler, domains: &mut DomainTable, now: u64) {
        let elapsed = now.saturating_sub(self.since);
        match self.current.and_then(|id| domains.get_mut(id)) {
            Some(domain) => scheduler.charge(&mut domain.vcpu.sched, elapsed),
            None => self.idle = self.idle.saturating_add(elapsed),
        }
        self.since = now;
    }

    /// When the CPU must next look at its timers and run queue: the
    /// earliest timer of any domain (the tick only for the running one) and,
    /// while something runs, the end of its slice. `None`: nothing is due.
    pub fn next_deadline(&self, scheduler: &CreditScheduler, domains: &DomainTable, now: u64) -> Option<u64> {
        let timers = domains
            .iter()
            .filter(|domain| domain.is_running())
            .filter_map(|domain| domain.vcpu.timers.next_deadline(self.current == Some(domain.id())))
            .min();
        let slice = self.current.map(|_| scheduler.run_until(now));
        [timers, slice].into_iter().flatten().min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::fake::FakeMemory;
    use crate::event::Channel;
    use crate::mm::Mfn;
    use crate::sched::credit::SchedParams;

    fn table(weights: &[u16]) -> DomainTable {
        let mut table = DomainTable::new();
        for (id, &weight) in weights.iter().enumerate() {
            let domain = table.create(id as DomId, "d", Mfn(0x200 + id as u64), 1).unwrap();
            domain.vcpu.sched = crate::sched::SchedEntity::new(SchedParams { weight, cap: 0 });
            domain.vcpu.timers.period = 0;
        }
        table
    }

    #[test]
    fn two_busy_domains_share_by_weight_and_a_blocked_one_gets_nothing() {
        let mut domains = table(&[256, 256, 512]);
        domains.get_mut(0).unwrap().vcpu.block();
        let mut scheduler = CreditScheduler::new(1);
        let mut cpu = Cpu::default();
        let mut now = 0;
        while now < 3_000_000_000 {
            cpu.current = cpu.choose(&mut scheduler, &mut domains, now);
            now = cpu.next_deadline(&scheduler, &domains, now).unwrap();
        }
        cpu.choose(&mut scheduler, &mut domains, now);
        let run = |id| domains.get(id).unwrap().vcpu.sched.total_run() as f64;
        assert_eq!(run(0), 0.0, "the blocked domain never ran");
        let ratio = run(2) / run(1);
        assert!((ratio - 2.0).abs() < 0.1, "ratio {ratio}");
    }

    #[test]
    fn nothing_runnable_means_idle_until_the_next_timer() {
        let mut domains = table(&[256, 256]);
        for domain in domains.iter_mut() {
            domain.vcpu.block();
        }
        domains.get_mut(1).unwrap().vcpu.timers.singleshot = Some(5_000);
        let mut scheduler = CreditScheduler::new(1);
        let mut cpu = Cpu::default();
        assert_eq!(cpu.choose(&mut scheduler, &mut domains, 0), None);
        assert_eq!(cpu.next_deadline(&scheduler, &domains, 0), Some(5_000));
        let mut memory = FakeMemory::default();
        let domain = domains.get_mut(1).unwrap();
        let port = domain.events.allocate(Channel::Virq(VIRQ_TIMER)).unwrap();
        assert!(!cpu.run_timers(&mut domains, &mut memory, 4_999), "not yet");
        assert!(
            cpu.run_timers(&mut domains, &mut memory, 5_000),
            "the timer wakes its vCPU"
        );
        assert_eq!(cpu.choose(&mut scheduler, &mut domains, 5_000), Some(1));
        assert_eq!(cpu.idle, 5_000, "idle from 0 until the timer woke d1");
        cpu.current = Some(1);
        cpu.choose(&mut scheduler, &mut domains, 7_000);
        assert_eq!(cpu.idle, 5_000, "running d1 is not idle");
        assert_eq!(domains.get(1).unwrap().vcpu.sched.total_run(), 2_000);
        let shared = domains.get(1).unwrap().shared_info();
        assert!(crate::event::TwoLevel::new(shared).is_pending(&memory, port));
    }

    #[test]
    fn a_yield_lets_the_other_run_but_alone_the_yielder_goes_on() {
        let mut domains = table(&[256, 256]);
        let mut scheduler = CreditScheduler::new(1);
        let mut cpu = Cpu::default();
        cpu.current = cpu.choose(&mut scheduler, &mut domains, 0);
        let first = cpu.current.unwrap();
        domains.get_mut(first).unwrap().vcpu.yielded = true;
        let next = cpu.choose(&mut scheduler, &mut domains, 1_000).unwrap();
        assert_ne!(next, first);
        domains.get_mut(1 - first).unwrap().vcpu.block();
        domains.get_mut(first).unwrap().vcpu.yielded = true;
        assert_eq!(cpu.choose(&mut scheduler, &mut domains, 2_000), Some(first));
        assert!(!domains.get(first).unwrap().vcpu.yielded, "a yield counts once");
    }

    #[test]
    fn dead_domains_are_never_picked_and_their_timers_never_fire() {
        let mut domains = table(&[256]);
        let domain = domains.get_mut(0).unwrap();
        domain.crash("test");
        domain.vcpu.timers.singleshot = Some(1);
        let mut scheduler = CreditScheduler::new(1);
        let mut cpu = Cpu::default();
        assert_eq!(cpu.choose(&mut scheduler, &mut domains, 10), None);
        assert_eq!(cpu.next_deadline(&scheduler, &domains, 10), None);
    }
}
