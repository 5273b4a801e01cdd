//! Event channels, blocking and timers through the hypercall table, with
//! three domains on a fake machine: dom0 (privileged), d1 and d2.

use super::test_domains::{ARG, Domains};
use super::*;
use crate::arch::fake::FakePlatform;
use crate::domain::domain_table::DomainTable;
use crate::event::{Channel, PortTable, TwoLevel};
use crate::mm::pte_rules::HYPERVISOR_L4_SLOTS;
use crate::mm::{FrameInfo, Mfn};
use crate::sched::RunState;
use xen_abi::errno::Errno;
use xen_abi::event_channel::*;
use xen_abi::hypercall as nr;
use xen_abi::mmu::DOMID_SELF;
use xen_abi::sched::{SCHEDOP_BLOCK, SCHEDOP_POLL, SCHEDOP_YIELD, SchedPoll};
use xen_abi::vcpu::*;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

type World = Domains;

fn world() -> World {
    let mut platform = FakePlatform::default();
    platform.guest.map(ARG, true);
    let mut table = DomainTable::new();
    for id in 0..3u16 {
        assert!(table.create(id, "d", Mfn(0x100 + u64::from(id)), 16).is_some());
    }
    Domains {
        table,
        frames: FrameTable::new(std::vec![FrameInfo::FREE; 16].leak(), [0; HYPERVISOR_L4_SLOTS]),
        frame: TrapFrame::default(),
        platform,
    }
}

impl World {
    /// `event_channel_op(command, op)` from `caller`: the result and the op
    /// as the hypervisor left it.
    fn evtchn<T: IntoBytes + FromBytes + Immutable + KnownLayout>(
        &mut self,
        caller: u16,
        command: u32,
        op: T,
    ) -> (i64, T) {
        self.op(caller, nr::EVENT_CHANNEL_OP, command, 0, op)
    }

    fn alloc_unbound(&mut self, caller: u16, dom: u16, remote_dom: u16) -> Result<u32, Errno> {
        let op = EvtchnAllocUnbound {
            dom,
            remote_dom,
            port: 0,
        };
        let (result, op) = self.evtchn(caller, EVTCHNOP_ALLOC_UNBOUND, op);
        check(result).map(|_| op.port)
    }

    fn bind_interdomain(&mut self, caller: u16, remote_dom: u16, remote_port: u32) -> Result<u32, Errno> {
        let op = EvtchnBindInterdomain {
            remote_dom,
            remote_port,
            ..Default::default()
        };
        let (result, op) = self.evtchn(caller, EVTCHNOP_BIND_INTERDOMAIN, op);
        check(result).map(|_| op.local_port)
    }

    fn send(&mut self, caller: u16, port: u32) -> Result<bool, Errno> {
        use crate::arch::GuestMemory;
        self.platform.guest.write(ARG, EvtchnSend { port }.as_bytes()).unwrap();
        let (result, reschedule) = self.call(caller, nr::EVENT_CHANNEL_OP, [u64::from(EVTCHNOP_SEND), ARG, 0, 0, 0]);
        check(result).map(|_| reschedule)
    }

    fn close(&mut self, caller: u16, port: u32) -> Result<(), Errno> {
        check(self.evtchn(caller, EVTCHNOP_CLOSE, EvtchnClose { port }).0).map(drop)
    }

    fn status(&mut self, caller: u16, dom: u16, port: u32) -> Result<EvtchnStatus, Errno> {
        let op = EvtchnStatus {
            dom,
            port,
            ..Default::default()
        };
        let (result, op) = self.evtchn(caller, EVTCHNOP_STATUS, op);
        check(result).map(|_| op)
    }

    fn bind_virq(&mut self, caller: u16, virq: u32, vcpu: u32) -> Result<u32, Errno> {
        let (result, op) = self.evtchn(caller, EVTCHNOP_BIND_VIRQ, EvtchnBindVirq { virq, vcpu, port: 0 });
        check(result).map(|_| op.port)
    }

    fn domain(&mut self, id: u16) -> &mut PvDomain {
        self.table.get_mut(id).unwrap()
    }

    fn pending(&self, id: u16, port: u32) -> bool {
        let domain = self.table.get(id).unwrap();
        TwoLevel::new(domain.shared_info()).is_pending(&self.platform.memory, port as u16)
    }

    /// A connected pair: d1's port offered to d2, and d2's port bound to it.
    fn pair(&mut self) -> (u32, u32) {
        let d1_port = self.alloc_unbound(1, DOMID_SELF, 2).unwrap();
        let d2_port = self.bind_interdomain(2, 1, d1_port).unwrap();
        (d1_port, d2_port)
    }
}

fn check(result: i64) -> Result<i64, Errno> {
    match Errno::from_return(result) {
        Some(errno) => Err(errno),
        None => Ok(result),
    }
}

#[test]
fn an_interdomain_pair_carries_events_both_ways_and_wakes_the_blocked_end() {
    let mut w = world();
    let (d1_port, d2_port) = w.pair();
    assert!(
        w.pending(2, d2_port),
        "binding sets the new port pending: nothing sent before is lost"
    );
    assert_eq!(
        w.domain(1).events.entry(d1_port as u16).channel,
        Channel::Interdomain {
            remote: 2,
            remote_port: d2_port as u16
        }
    );
    w.domain(1).vcpu.block();
    w.table
        .get_mut(1)
        .unwrap()
        .set_events_masked(&mut w.platform.memory, false);
    assert_eq!(w.send(2, d2_port), Ok(true), "the blocked receiver woke: reschedule");
    assert!(w.pending(1, d1_port));
    assert_eq!(w.domain(1).vcpu.run_state(), RunState::Runnable);
    assert_eq!(w.send(2, d2_port), Ok(false), "already pending: nothing new");
    assert_eq!(w.send(1, d1_port), Ok(false), "d2 was not waiting");
    assert!(w.pending(2, d2_port));
}

#[test]
fn only_the_named_remote_may_bind_and_only_the_privileged_act_for_others() {
    let mut w = world();
    let offered_to_d2 = w.alloc_unbound(1, DOMID_SELF, 2).unwrap();
    assert_eq!(
        w.bind_interdomain(0, 1, offered_to_d2),
        Err(Errno::EINVAL),
        "not offered to dom0"
    );
    assert_eq!(w.bind_interdomain(2, 1, 999), Err(Errno::EINVAL), "no such port");
    assert_eq!(w.bind_interdomain(2, 1, 5000), Err(Errno::EINVAL), "beyond any table");
    assert_eq!(
        w.bind_interdomain(2, 7, offered_to_d2),
        Err(Errno::ESRCH),
        "no domain 7"
    );
    assert_eq!(w.domain(0).events.in_use(), 0, "failed binds leave no port behind");
    assert_eq!(w.domain(2).events.in_use(), 0);
    assert_eq!(w.alloc_unbound(2, 1, 2), Err(Errno::EPERM), "d2 allocates in d1");
    assert_eq!(w.alloc_unbound(2, 6, 2), Err(Errno::ESRCH), "missing before forbidden");
    let by_dom0 = w.alloc_unbound(0, 1, 0).unwrap();
    assert_eq!(w.status(0, 1, by_dom0).unwrap().status, EVTCHNSTAT_UNBOUND);
    assert_eq!(
        w.status(2, 1, by_dom0),
        Err(Errno::EPERM),
        "d2 may not look at d1's ports"
    );
    let status = w.status(1, DOMID_SELF, offered_to_d2).unwrap();
    assert_eq!((status.status, status.u.unbound().dom), (EVTCHNSTAT_UNBOUND, 2));
    // Ports are local: d2 cannot send on or close d1's port number.
    assert_eq!(w.send(2, offered_to_d2), Err(Errno::EINVAL), "d2 has no such port");
    assert_eq!(w.close(2, offered_to_d2), Err(Errno::EINVAL));
}

#[test]
fn closing_one_end_leaves_the_other_unbound_and_sends_are_dropped() {
    let mut w = world();
    let (d1_port, d2_port) = w.pair();
    assert_eq!(w.close(1, d1_port), Ok(()));
    let status = w.status(2, DOMID_SELF, d2_port).unwrap();
    assert_eq!((status.status, status.u.unbound().dom), (EVTCHNSTAT_UNBOUND, 1));
    assert_eq!(w.send(2, d2_port), Ok(false), "unbound: dropped, as in Xen");
    assert_eq!(w.status(1, DOMID_SELF, d1_port).unwrap().status, EVTCHNSTAT_CLOSED);
    assert_eq!(w.close(1, d1_port), Err(Errno::EINVAL), "already closed");
    assert_eq!(w.close(1, 0), Err(Errno::EINVAL), "port 0 is reserved");
    assert_eq!(w.close(1, u32::MAX), Err(Errno::EINVAL));
    // d1 may offer a new port and d2 bind again.
    let again = w.alloc_unbound(1, DOMID_SELF, 2).unwrap();
    assert!(w.bind_interdomain(2, 1, again).is_ok());
}

#[test]
fn a_closed_port_comes_back_quiet() {
    let mut w = world();
    let ipi = w
        .evtchn(1, EVTCHNOP_BIND_IPI, EvtchnBindIpi { vcpu: 0, port: 0 })
        .1
        .port;
    assert_eq!(w.send(1, ipi), Ok(false));
    assert!(w.pending(1, ipi), "an IPI pends locally");
    w.close(1, ipi).unwrap();
    assert!(!w.pending(1, ipi), "closing clears the pending bit");
}

#[test]
fn the_quota_is_enospc_and_a_bind_at_the_limit_leaves_nothing() {
    let mut w = world();
    w.domain(2).events = PortTable::with_limit(3);
    assert_eq!(w.alloc_unbound(2, DOMID_SELF, 1), Ok(1));
    assert_eq!(w.alloc_unbound(2, DOMID_SELF, 1), Ok(2));
    assert_eq!(w.alloc_unbound(2, DOMID_SELF, 1), Err(Errno::ENOSPC));
    let offered = w.alloc_unbound(1, DOMID_SELF, 2).unwrap();
    assert_eq!(w.bind_interdomain(2, 1, offered), Err(Errno::ENOSPC));
    assert_eq!(w.status(1, DOMID_SELF, offered).unwrap().status, EVTCHNSTAT_UNBOUND);
}

#[test]
fn a_domain_may_connect_a_loopback_pair_to_itself() {
    let mut w = world();
    let a = w.alloc_unbound(0, DOMID_SELF, DOMID_SELF).unwrap();
    assert_eq!(
        w.bind_interdomain(0, DOMID_SELF, a + 1),
        Err(Errno::EINVAL),
        "the port about to be allocated is not on offer"
    );
    let b = w.bind_interdomain(0, DOMID_SELF, a).unwrap();
    assert_ne!(a, b);
    w.close(0, b).unwrap(); // drop the pending bit the bind set
    let b = w.bind_interdomain(0, 0, a).unwrap();
    assert!(w.pending(0, b));
    assert!(!w.pending(0, a));
    w.send(0, b).unwrap();
    assert!(w.pending(0, a));
}

#[test]
fn virqs_bind_once_per_vcpu_and_cannot_be_sent() {
    let mut w = world();
    let timer = w.bind_virq(1, VIRQ_TIMER, 0).unwrap();
    assert_eq!(w.bind_virq(1, VIRQ_TIMER, 0), Err(Errno::EEXIST));
    assert_eq!(w.bind_virq(1, VIRQ_TIMER, 1), Err(Errno::ENOENT), "no vCPU 1");
    assert_eq!(
        w.bind_virq(0, VIRQ_DOM_EXC, 1),
        Err(Errno::EINVAL),
        "global VIRQs on vCPU 0 only"
    );
    assert_eq!(w.bind_virq(1, NR_VIRQS, 0), Err(Errno::EINVAL));
    assert_eq!(
        w.send(1, timer),
        Err(Errno::EINVAL),
        "only the hypervisor raises a VIRQ"
    );
    let status = w.status(1, DOMID_SELF, timer).unwrap();
    assert_eq!((status.status, status.u.virq()), (EVTCHNSTAT_VIRQ, VIRQ_TIMER));
    w.close(1, timer).unwrap();
    assert!(w.bind_virq(1, VIRQ_TIMER, 0).is_ok(), "closing unbinds the VIRQ");
}

#[test]
fn unimplemented_operations_fail_cleanly() {
    let mut w = world();
    for command in [EVTCHNOP_INIT_CONTROL, EVTCHNOP_EXPAND_ARRAY, EVTCHNOP_SET_PRIORITY, 99] {
        assert_eq!(
            check(w.evtchn(1, command, [0u64; 4]).0),
            Err(Errno::ENOSYS),
            "{command}"
        );
    }
    let pirq = EvtchnBindPirq::default();
    assert_eq!(check(w.evtchn(0, EVTCHNOP_BIND_PIRQ, pirq).0), Err(Errno::EINVAL));
    assert_eq!(w.domain(1).events.in_use(), 0);
    let (result, _) = w.call(
        1,
        nr::EVENT_CHANNEL_OP,
        [u64::from(EVTCHNOP_SEND), 0xdead_0000, 0, 0, 0],
    );
    assert_eq!(check(result), Err(Errno::EFAULT));
}

#[test]
fn unmask_by_hypercall_announces_a_pending_port() {
    let mut w = world();
    let (d1_port, d2_port) = w.pair();
    let bits = TwoLevel::new(w.domain(1).shared_info());
    bits.set_masked(&mut w.platform.memory, d1_port as u16);
    w.send(2, d2_port).unwrap();
    w.table
        .get_mut(1)
        .unwrap()
        .set_events_masked(&mut w.platform.memory, false);
    assert!(!w.table.get(1).unwrap().upcall_deliverable(&w.platform.memory));
    assert_eq!(
        check(w.evtchn(1, EVTCHNOP_UNMASK, EvtchnUnmask { port: d1_port }).0),
        Ok(0)
    );
    assert!(w.table.get(1).unwrap().upcall_deliverable(&w.platform.memory));
}

#[test]
fn a_privileged_reset_unbinds_the_far_ends() {
    let mut w = world();
    let (d1_port, d2_port) = w.pair();
    assert_eq!(
        check(w.evtchn(2, EVTCHNOP_RESET, EvtchnReset { dom: 1 }).0),
        Err(Errno::EPERM)
    );
    assert_eq!(check(w.evtchn(0, EVTCHNOP_RESET, EvtchnReset { dom: 1 }).0), Ok(0));
    assert_eq!(w.domain(1).events.in_use(), 0);
    assert_eq!(w.status(2, DOMID_SELF, d2_port).unwrap().status, EVTCHNSTAT_UNBOUND);
    assert_eq!(w.status(1, DOMID_SELF, d1_port).unwrap().status, EVTCHNSTAT_CLOSED);
}

#[test]
fn block_sleeps_only_when_no_event_is_due() {
    let mut w = world();
    w.table
        .get_mut(1)
        .unwrap()
        .set_events_masked(&mut w.platform.memory, true);
    let ipi = w
        .evtchn(1, EVTCHNOP_BIND_IPI, EvtchnBindIpi { vcpu: 0, port: 0 })
        .1
        .port;
    w.send(1, ipi).unwrap();
    let (result, reschedule) = w.call(1, nr::SCHED_OP, [u64::from(SCHEDOP_BLOCK), 0, 0, 0, 0]);
    assert_eq!(
        (result, reschedule),
        (0, false),
        "an event was pending under the mask: no sleep"
    );
    assert!(
        !w.table.get(1).unwrap().events_masked(&w.platform.memory),
        "block enables events"
    );
    let (_, reschedule) = w.call(2, nr::SCHED_OP, [u64::from(SCHEDOP_BLOCK), 0, 0, 0, 0]);
    assert!(reschedule);
    assert_eq!(w.domain(2).vcpu.run_state(), RunState::Blocked);
    let (_, reschedule) = w.call(1, nr::SCHED_OP, [u64::from(SCHEDOP_YIELD), 0, 0, 0, 0]);
    assert!(reschedule && w.domain(1).vcpu.yielded);
}

#[test]
fn poll_checks_every_port_and_sleeps_on_one() {
    use crate::arch::GuestMemory;
    let mut w = world();
    w.table
        .get_mut(1)
        .unwrap()
        .set_events_masked(&mut w.platform.memory, true);
    let (d1_port, _) = w.pair();
    let ports_at = ARG + 0x800;
    let poll = |w: &mut World, ports: &[u32], nr_ports: u32, timeout: u64| {
        w.platform.guest.write(ports_at, ports.as_bytes()).unwrap();
        let op = SchedPoll {
            ports: ports_at,
            nr_ports,
            _pad0: 0,
            timeout,
        };
        w.platform.guest.write(ARG, op.as_bytes()).unwrap();
        let (result, reschedule) = w.call(1, nr::SCHED_OP, [u64::from(SCHEDOP_POLL), ARG, 0, 0, 0]);
        (check(result), reschedule)
    };
    assert_eq!(
        poll(&mut w, &[d1_port], 129, 0),
        (Err(Errno::EINVAL), false),
        "over 128 ports"
    );
    assert_eq!(
        poll(&mut w, &[d1_port, 4000], 2, 0),
        (Err(Errno::EINVAL), false),
        "a bad port"
    );
    assert_eq!(poll(&mut w, &[d1_port], 1, 5_000), (Ok(0), true));
    assert_eq!(
        w.domain(1).vcpu.run_state(),
        RunState::Polling {
            port: Some(d1_port as u16)
        }
    );
    assert_eq!(w.domain(1).vcpu.timers.poll_timeout, Some(5_000));
    w.domain(1).wake();
    w.send(2, 1).unwrap();
    assert_eq!(
        poll(&mut w, &[d1_port], 1, 0),
        (Ok(0), false),
        "already pending: no sleep"
    );
    let unmapped = SchedPoll {
        ports: 0xdead_0000,
        nr_ports: 1,
        ..SchedPoll::default()
    };
    w.platform.guest.write(ARG, unmapped.as_bytes()).unwrap();
    let (result, _) = w.call(1, nr::SCHED_OP, [u64::from(SCHEDOP_POLL), ARG, 0, 0, 0]);
    assert_eq!(
        check(result),
        Err(Errno::EFAULT),
        "the port array is read through the guest-copy checks"
    );
}

#[test]
fn timers_are_set_by_set_timer_op_and_vcpu_op() {
    use crate::arch::GuestMemory;
    let mut w = world();
    w.platform.now = 1_000_000;
    let (result, reschedule) = w.call(1, nr::SET_TIMER_OP, [3_000_000, 0, 0, 0, 0]);
    assert_eq!((result, reschedule), (0, true));
    assert_eq!(w.domain(1).vcpu.timers.singleshot, Some(3_000_000));
    let vcpu_op =
        |w: &mut World, command: u32, vcpu: u64| check(w.call(1, nr::VCPU_OP, [u64::from(command), vcpu, ARG, 0, 0]).0);
    let set = VcpuSetSingleshotTimer {
        timeout_abs_ns: 500_000,
        flags: SingleshotTimerFlags::FUTURE.bits(),
        _pad0: 0,
    };
    w.platform.guest.write(ARG, set.as_bytes()).unwrap();
    assert_eq!(vcpu_op(&mut w, VCPUOP_SET_SINGLESHOT_TIMER, 0), Err(Errno::ETIME));
    assert_eq!(vcpu_op(&mut w, VCPUOP_SET_SINGLESHOT_TIMER, 1), Err(Errno::ENOENT));
    assert_eq!(vcpu_op(&mut w, VCPUOP_STOP_SINGLESHOT_TIMER, 0), Ok(0));
    assert_eq!(w.domain(1).vcpu.timers.singleshot, None);
    w.platform
        .guest
        .write(ARG, VcpuSetPeriodicTimer { period_ns: 999_999 }.as_bytes())
        .unwrap();
    assert_eq!(
        vcpu_op(&mut w, VCPUOP_SET_PERIODIC_TIMER, 0),
        Err(Errno::EINVAL),
        "under 1 ms"
    );
    w.platform
        .guest
        .write(ARG, VcpuSetPeriodicTimer { period_ns: 2_000_000 }.as_bytes())
        .unwrap();
    assert_eq!(vcpu_op(&mut w, VCPUOP_SET_PERIODIC_TIMER, 0), Ok(0));
    assert_eq!(w.domain(1).vcpu.timers.next_tick, 3_000_000);
    assert_eq!(vcpu_op(&mut w, VCPUOP_STOP_PERIODIC_TIMER, 0), Ok(0));
    assert_eq!(w.domain(1).vcpu.timers.period, 0);
    assert_eq!(vcpu_op(&mut w, VCPUOP_IS_UP, 0), Ok(1));
}
