//! Raising a domain's port: the bits in its shared_info, then waking its
//! vCPU if that is what it was waiting for.

use super::channel::Port;
use super::two_level::{Raised, UPCALL_PENDING_BYTE};
use crate::arch::PhysicalMemory;
use crate::domain::pv_domain::PvDomain;
use crate::sched::RunState;

impl PvDomain {
    /// Raises `port` (which must be allocated) for the vCPU it notifies;
    /// whether that woke the vCPU.
    pub fn raise_port(&mut self, memory: &mut impl PhysicalMemory, port: Port) -> bool {
        let vcpu = self.events.entry(port).notify_vcpu;
        let raised = self.event_bits().raise(memory, vcpu, port);
        self.wake_for(raised, Some(port))
    }

    /// Raises the port bound to `virq`, if one is; whether that woke the vCPU.
    pub fn raise_virq(&mut self, memory: &mut impl PhysicalMemory, virq: u32) -> bool {
        match self.events.virq_port(virq) {
            Some(port) => self.raise_port(memory, port),
            None => false,
        }
    }

    /// Unmasks `port` (`EVTCHNOP_unmask`); whether that woke the vCPU.
    pub fn unmask_port(&mut self, memory: &mut impl PhysicalMemory, port: Port) -> bool {
        let vcpu = self.events.entry(port).notify_vcpu;
        if self.event_bits().unmask(memory, vcpu, port) {
            self.wake_for(Raised::UpcallNewlyPending, None)
        } else {
            false
        }
    }

    /// Whether `evtchn_upcall_pending` is set, masked or not: one load and
    /// one test, for the return path's first look.
    #[inline(always)]
    pub fn upcall_flagged(&self, memory: &impl PhysicalMemory) -> bool {
        memory.read_u64(self.vcpu_info_address()) & UPCALL_PENDING_BYTE != 0
    }

    /// Whether the vCPU has an upcall to take: pending and not masked.
    pub fn upcall_deliverable(&self, memory: &impl PhysicalMemory) -> bool {
        self.event_bits().upcall_deliverable(memory, 0)
    }

    /// Wakes the vCPU if `raised` is what it waits for (Xen's `vcpu_kick` and
    /// `evtchn_check_pollers`): a blocked vCPU wakes on a new upcall, a
    /// polling one also on its polled port becoming pending.
    fn wake_for(&mut self, raised: Raised, port: Option<Port>) -> bool {
        let wakes = match self.vcpu.run_state() {
            RunState::Runnable => false,
            RunState::Blocked => raised == Raised::UpcallNewlyPending,
            RunState::Polling { port: polled } => match raised {
                Raised::AlreadyPending => false,
                Raised::UpcallNewlyPending => true,
                Raised::Pending => polled.is_none() || polled == port,
            },
        };
        if wakes {
            self.wake();
        }
        wakes
    }

    /// Makes the vCPU runnable again, dropping any poll timeout.
    pub fn wake(&mut self) {
        self.vcpu.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::fake::FakeMemory;
    use crate::event::Channel;
    use crate::event::two_level::TwoLevel;
    use crate::mm::Mfn;

    fn domain() -> (PvDomain, FakeMemory) {
        let domain = PvDomain::new(1, "d1", Mfn(0x20), 16);
        (domain, FakeMemory::default())
    }

    #[test]
    fn a_blocked_vcpu_wakes_on_a_new_upcall_only() {
        let (mut domain, mut memory) = domain();
        let port = domain.events.allocate(Channel::Ipi).unwrap();
        let masked = domain.events.allocate(Channel::Ipi).unwrap();
        TwoLevel::new(domain.shared_info()).set_masked(&mut memory, masked);
        domain.vcpu.block();
        assert!(!domain.raise_port(&mut memory, masked), "masked: stays blocked");
        assert_eq!(domain.vcpu.run_state(), RunState::Blocked);
        assert!(domain.raise_port(&mut memory, port));
        assert_eq!(domain.vcpu.run_state(), RunState::Runnable);
        assert!(domain.upcall_deliverable(&memory));
    }

    #[test]
    fn a_poller_wakes_on_its_port_even_masked_but_not_on_others() {
        let (mut domain, mut memory) = domain();
        let polled = domain.events.allocate(Channel::Ipi).unwrap();
        let other = domain.events.allocate(Channel::Ipi).unwrap();
        let bits = TwoLevel::new(domain.shared_info());
        bits.set_masked(&mut memory, polled);
        bits.set_masked(&mut memory, other);
        domain.vcpu.poll(Some(polled), Some(99));
        assert!(!domain.raise_port(&mut memory, other));
        assert!(domain.raise_port(&mut memory, polled));
        assert_eq!(domain.vcpu.run_state(), RunState::Runnable);
        assert_eq!(domain.vcpu.timers.poll_timeout, None);
    }

    #[test]
    fn a_virq_reaches_its_port_and_an_unbound_virq_is_dropped() {
        let (mut domain, mut memory) = domain();
        domain.vcpu.block();
        assert!(!domain.raise_virq(&mut memory, 0), "VIRQ_TIMER not bound");
        let port = domain.events.allocate(Channel::Virq(0)).unwrap();
        assert!(domain.raise_virq(&mut memory, 0));
        assert!(TwoLevel::new(domain.shared_info()).is_pending(&memory, port));
    }

    #[test]
    fn unmasking_a_pending_port_wakes_a_blocked_vcpu() {
        let (mut domain, mut memory) = domain();
        let port = domain.events.allocate(Channel::Ipi).unwrap();
        TwoLevel::new(domain.shared_info()).set_masked(&mut memory, port);
        domain.raise_port(&mut memory, port);
        domain.vcpu.block();
        assert!(domain.unmask_port(&mut memory, port));
        assert_eq!(domain.vcpu.run_state(), RunState::Runnable);
    }
}
