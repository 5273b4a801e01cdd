//! The scheduling loop, a domain's end and the run's exit code, driven as
//! the kernel drives them (hypercalls, exceptions, the timer) over a fake
//! CPU, with domains the real builder made.

use super::*;
use crate::arch::fake_machine::FakeMachine;
use crate::hypercall::test_domains::build_domain_in;
use crate::mm::FrameInfo;
use crate::mm::pte_rules::HYPERVISOR_L4_SLOTS;
use crate::sched::{SchedEntity, SchedParams};
use crate::trap_frame::{SYSCALL_VECTOR, TIMER_VECTOR};
use std::boxed::Box;
use xen_abi::hypercall as nr;
use xen_abi::mmu::DomId;
use xen_abi::sched::*;
use zerocopy::IntoBytes;

/// Where a guest's hypercall arguments are written (mapped in every
/// domain: one fake guest memory serves whichever runs).
pub(super) const ARG: u64 = 0x10_0000;
/// Pages each built domain has.
pub(super) const PAGES: u64 = 1024;
/// Frames each domain's build may take.
pub(super) const FRAMES_EACH: u64 = 1280;
/// The hypervisor's own L4, loaded while the CPU idles.
const IDLE_L4: Mfn = Mfn(0x10);

/// A running hypervisor on one fake CPU; `frame` holds the registers of
/// the vCPU on the CPU, as the kernel's entry code would.
pub(super) struct Run {
    pub(super) hypervisor: Box<Hypervisor>,
    pub(super) cpu: Cpu,
    pub(super) frame: TrapFrame,
    pub(super) machine: FakeMachine,
}

/// Builds domains `0..count` (weights equal) and starts scheduling.
pub(super) fn start(count: DomId) -> Run {
    start_domains(&(0..count).collect::<std::vec::Vec<_>>())
}

/// Builds domains `ids` (weights equal) and starts scheduling.
pub(super) fn start_domains(ids: &[DomId]) -> Run {
    let count = ids.iter().max().map_or(0, |&id| u64::from(id) + 1);
    let mut machine = FakeMachine::default();
    machine.platform.guest.map(ARG, true);
    let storage = std::vec![FrameInfo::FREE; (0x100 + count * FRAMES_EACH) as usize].leak();
    let mut frames = FrameTable::new(storage, [0; HYPERVISOR_L4_SLOTS]);
    let mut hypervisor = Box::new(Hypervisor::new());
    for &id in ids {
        let first = 0x100 + u64::from(id) * FRAMES_EACH;
        let slot = hypervisor.domains_mut().vacant(id).unwrap();
        let built = build_domain_in(&mut machine.platform, &mut frames, slot, PAGES, first, FRAMES_EACH);
        built.domain.vcpu.context = built.frame;
        built.domain.vcpu.sched = SchedEntity::new(SchedParams { weight: 256, cap: 0 });
    }
    let mut run = Run {
        hypervisor,
        cpu: Cpu::default(),
        frame: TrapFrame::default(),
        machine,
    };
    let started = run
        .hypervisor
        .start(&mut run.cpu, frames, IDLE_L4, &mut run.frame, &mut run.machine);
    assert_eq!(started, Ok(()));
    run
}

impl Run {
    /// The domain on the CPU makes hypercall `number` through `syscall`,
    /// as the kernel's entry code passes it on.
    pub(super) fn hypercall(&mut self, number: u32, args: [u64; 5]) -> Result<(), RunEnd> {
        let frame = &mut self.frame;
        frame.vector = SYSCALL_VECTOR;
        frame.rax = u64::from(number);
        [frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8] = args;
        if self.hypervisor.handle_syscall(&self.cpu, frame, &mut self.machine) {
            self.hypervisor
                .reschedule_after_syscall(&mut self.cpu, frame, &mut self.machine)
        } else {
            Ok(())
        }
    }

    /// `sched_op(command, ARG)` with `argument` written at ARG.
    pub(super) fn sched_op(&mut self, command: u32, argument: &[u8]) -> Result<(), RunEnd> {
        use crate::arch::GuestMemory;
        self.machine.platform.guest.write(ARG, argument).unwrap();
        self.hypercall(nr::SCHED_OP, [u64::from(command), ARG, 0, 0, 0])
    }

    /// The domain on the CPU shuts down with `reason`.
    pub(super) fn shutdown(&mut self, reason: u32) -> Result<(), RunEnd> {
        self.sched_op(SCHEDOP_SHUTDOWN, SchedShutdown { reason }.as_bytes())
    }

    /// The domain on the CPU raises exception `vector` (an `int3`, an
    /// invalid opcode...), or the timer interrupts it.
    pub(super) fn trap(&mut self, vector: u8) -> Result<(), RunEnd> {
        self.frame.vector = u64::from(vector);
        self.frame.error_code = 0;
        self.hypervisor
            .handle_trap(&mut self.cpu, &mut self.frame, &mut self.machine)
    }

    /// Time runs on to the armed timer, which interrupts the guest.
    pub(super) fn timer_fires(&mut self) -> Result<(), RunEnd> {
        let deadline = self.machine.timer.expect("a running guest always has a timer armed");
        self.machine.platform.now = deadline;
        self.trap(TIMER_VECTOR)
    }

    /// A frame the builder left free, given to domain `id` zeroed: for a
    /// second L4, a page to move vcpu_info to...
    pub(super) fn spare_frame(&mut self, id: DomId) -> Mfn {
        use crate::arch::PhysicalMemory;
        let frames = self.hypervisor.frames.as_mut().unwrap();
        let first = 0x100 + u64::from(id) * FRAMES_EACH;
        let spare = (first..first + FRAMES_EACH)
            .rev()
            .map(Mfn)
            .find(|&mfn| frames.frame(mfn).is_some_and(|info| info.is_free()))
            .expect("the builder leaves frames free");
        frames.assign(spare, id).unwrap();
        self.machine.platform.memory.zero_frame(spare);
        spare
    }

    /// The domain on the CPU gets a handler for `vector` at `address` and a
    /// kernel stack page at 0x30_0000 to take it on (its stack pointer in
    /// it): a bounced exception then lands there instead of crashing it.
    pub(super) fn handle_in_guest(&mut self, vector: u8, address: u64) {
        let id = self.current().expect("a domain runs");
        let vcpu = &mut self.hypervisor.domains_mut().get_mut(id).unwrap().vcpu;
        vcpu.set_trap(&xen_abi::trap::TrapInfo {
            vector,
            flags: 0,
            cs: xen_abi::trap::FLAT_KERNEL_CS,
            _pad0: 0,
            address,
        })
        .unwrap();
        self.machine.platform.guest.map(0x30_0000, true);
        self.frame.rsp = 0x30_0800;
    }

    /// The kernel page-table base of the domain on the CPU.
    pub(super) fn kernel_base(&self) -> Mfn {
        let id = self.current().expect("a domain runs");
        let domain = self.hypervisor.domains().get(id).unwrap();
        domain.vcpu.kernel_base.as_ref().unwrap().mfn()
    }

    pub(super) fn current(&self) -> Option<DomId> {
        self.cpu.current
    }
}

impl Drop for Run {
    /// Gives back what the domains left hold: their references must be
    /// put, not dropped.
    fn drop(&mut self) {
        let Some(frames) = self.hypervisor.frames.as_mut() else {
            return;
        };
        let memory = &mut self.machine.platform.memory;
        let _ = frames.relinquish_steps(memory, &mut crate::mm::budget::Budget::unlimited(), &mut |_| ());
        for id in 0..crate::domain::domain_table::MAX_DOMAINS as DomId {
            if let Some(mut domain) = self.hypervisor.domains.remove(id) {
                domain.release_memory(frames, memory, &mut |_| ());
            }
        }
    }
}

#[test]
fn the_first_vcpu_starts_on_its_own_tables_with_its_entry_registers() {
    let run = start(2);
    let id = run.current().expect("something runs");
    let domain = run.hypervisor.domains().get(id).unwrap();
    assert_eq!(run.frame, domain.vcpu.context);
    let base = domain.vcpu.kernel_base.as_ref().unwrap().mfn();
    assert_eq!(run.machine.platform.guest.bases.last(), Some(&base));
    assert!(run.machine.timer.is_some(), "the slice's end is armed");
}

#[test]
fn two_domains_that_yield_take_turns_and_keep_their_registers() {
    let mut run = start(2);
    let first = run.current().unwrap();
    run.frame.rbx = 0x1111;
    run.machine.fpu.0[0] = 0xaa;
    assert_eq!(run.sched_op(SCHEDOP_YIELD, &[]), Ok(()));
    let second = run.current().unwrap();
    assert_ne!(first, second, "a yield hands the CPU to the other domain");
    assert_ne!(run.frame.rbx, 0x1111, "the other domain's registers are on the CPU");
    run.machine.fpu.0[0] = 0xbb;
    assert_eq!(run.sched_op(SCHEDOP_YIELD, &[]), Ok(()));
    assert_eq!(run.current(), Some(first));
    assert_eq!(run.frame.rbx, 0x1111, "registers come back as they were");
    assert_eq!(run.frame.rax, 0, "the yield returned 0");
    assert_eq!(run.machine.fpu.0[0], 0xaa, "FPU state comes back as it was");
}

#[test]
fn the_timer_ends_a_busy_domains_slice_and_the_other_runs() {
    let mut run = start(2);
    let first = run.current().unwrap();
    let mut turns = std::vec![first];
    for _ in 0..6 {
        assert_eq!(run.timer_fires(), Ok(()));
        if run.current() != turns.last().copied() {
            turns.push(run.current().unwrap());
        }
    }
    assert!(run.machine.timer_interrupts == 6, "every interrupt is acknowledged");
    assert!(turns.len() >= 3, "two busy domains alternate on the timer: {turns:?}");
    assert_eq!(run.machine.halts, 0, "nobody idles with work to do");
}

#[test]
fn an_idle_cpu_halts_until_a_blocked_domains_timer_wakes_it_with_an_upcall() {
    use crate::arch::GuestMemory;
    use xen_abi::event_channel::{EVTCHNOP_BIND_VIRQ, EvtchnBindVirq, VIRQ_TIMER};
    let mut run = start(1);
    assert_eq!(run.current(), Some(0));
    let callback = 0x40_0000;
    // The bounce frame goes on its kernel stack.
    let stack = run.frame.rsp - 1;
    run.machine.platform.guest.map(stack & !0xfff, true);
    assert_eq!(
        run.hypercall(nr::SET_CALLBACKS, [callback, callback + 0x100, 0, 0, 0]),
        Ok(())
    );
    let bind = EvtchnBindVirq {
        virq: VIRQ_TIMER,
        ..Default::default()
    };
    run.machine.platform.guest.write(ARG, bind.as_bytes()).unwrap();
    let bind_op = [u64::from(EVTCHNOP_BIND_VIRQ), ARG, 0, 0, 0];
    assert_eq!(run.hypercall(nr::EVENT_CHANNEL_OP, bind_op), Ok(()));
    assert_eq!(run.frame.rax, 0, "VIRQ_TIMER bound");
    let deadline = run.machine.platform.now + 5_000_000;
    assert_eq!(run.hypercall(nr::SET_TIMER_OP, [deadline, 0, 0, 0, 0]), Ok(()));
    let halts = run.machine.halts;
    assert_eq!(run.sched_op(SCHEDOP_BLOCK, &[]), Ok(()));
    assert_eq!(
        run.machine.halts,
        halts + 1,
        "with its only domain blocked, the CPU halted once"
    );
    assert_eq!(run.current(), Some(0), "the timer woke the domain");
    assert!(run.machine.platform.now >= deadline);
    assert!(run.cpu.idle > 0, "the halt counts as idle time");
    assert_eq!(run.frame.rip, callback, "it resumes in its event callback");
}

#[test]
fn a_domus_death_leaves_the_others_running_and_its_memory_goes_back() {
    let mut run = start(3);
    // Run until domain 1 is on the CPU, then it crashes itself.
    while run.current() != Some(1) {
        assert_eq!(run.sched_op(SCHEDOP_YIELD, &[]), Ok(()));
    }
    assert_eq!(run.shutdown(SHUTDOWN_CRASH), Ok(()), "a domU's end is not the run's");
    assert!(run.hypervisor.domains().get(1).is_none(), "domain 1 left the table");
    assert!(run.machine.logged("domain 1 (d) shut down with reason crash"));
    assert!(run.machine.logged("domain 1 destroyed"));
    let next = run.current().expect("another domain runs");
    assert_ne!(next, 1);
    // Its memory goes back over the next scheduling passes.
    for _ in 0..64 {
        if run.machine.logged("domain 1's memory given back") {
            break;
        }
        assert_eq!(run.sched_op(SCHEDOP_YIELD, &[]), Ok(()));
    }
    assert!(run.machine.logged("domain 1's memory given back"));
    assert!(
        !run.machine.freed.frames.is_empty(),
        "its frames went back to the allocator"
    );
    let first = 0x100 + FRAMES_EACH;
    assert!(
        run.machine
            .freed
            .frames
            .iter()
            .all(|mfn| (first..first + FRAMES_EACH).contains(&mfn.0)),
        "only domain 1's frames were freed"
    );
    // Domains 0 and 2 still take turns.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..4 {
        seen.insert(run.current().unwrap());
        assert_eq!(run.sched_op(SCHEDOP_YIELD, &[]), Ok(()));
    }
    assert_eq!(seen.into_iter().collect::<std::vec::Vec<_>>(), [0, 2]);
}

#[test]
fn a_domain_without_a_handler_for_its_exception_is_crashed_alone() {
    let mut run = start(2);
    while run.current() != Some(1) {
        assert_eq!(run.sched_op(SCHEDOP_YIELD, &[]), Ok(()));
    }
    // #UD with an empty trap table: nothing to bounce to.
    assert_eq!(run.trap(6), Ok(()));
    assert!(run.machine.logged("d1 (d): exception 6 (#UD invalid opcode)"));
    assert!(run.machine.logged("domain 1 (d) crashed: unhandled exception"));
    assert_eq!(run.current(), Some(0));
}

#[test]
fn an_unsafe_return_frame_crashes_the_domain_not_the_hypervisor() {
    let mut run = start(2);
    while run.current() != Some(1) {
        assert_eq!(run.sched_op(SCHEDOP_YIELD, &[]), Ok(()));
    }
    // A hypercall that asked for the scheduler, its frame now returning to
    // ring 0.
    run.frame.cs = 0x08;
    let rescheduled = run
        .hypervisor
        .reschedule_after_syscall(&mut run.cpu, &mut run.frame, &mut run.machine);
    assert_eq!(rescheduled, Ok(()));
    assert!(run.machine.logged("d1: return to rip"));
    assert!(run.machine.logged("domain 1 (d) crashed: unsafe return frame"));
    assert!(run.hypervisor.domains().get(1).is_none());
    assert_eq!(run.current(), Some(0));
}

#[test]
fn dom0_powering_off_ends_the_run_with_success_after_everything_went_back() {
    let mut run = start(2);
    while run.current() != Some(1) {
        assert_eq!(run.sched_op(SCHEDOP_YIELD, &[]), Ok(()));
    }
    assert_eq!(run.shutdown(SHUTDOWN_POWEROFF), Ok(()));
    assert_eq!(run.current(), Some(0));
    let freed_before = run.machine.freed.frames.len();
    let end = run.shutdown(SHUTDOWN_POWEROFF);
    assert_eq!(
        end,
        Err(RunEnd {
            verdict: DebugExit::Success,
            reason: "success"
        })
    );
    assert!(
        run.hypervisor
            .frames()
            .is_some_and(|frames| !frames.teardowns_pending()),
        "domain 1's teardown was finished before the end"
    );
    assert!(run.machine.freed.frames.len() >= freed_before);
    assert!(run.machine.logged("cpu time: idle"));
}

#[test]
fn dom0_crashing_ends_the_run_with_the_guest_crashed_code() {
    let mut run = start(2);
    while run.current() != Some(0) {
        assert_eq!(run.sched_op(SCHEDOP_YIELD, &[]), Ok(()));
    }
    assert_eq!(
        run.shutdown(SHUTDOWN_CRASH),
        Err(RunEnd {
            verdict: DebugExit::GuestCrashed,
            reason: "dom0 crashed"
        })
    );
}

#[test]
fn the_run_fails_when_the_last_domain_is_gone_and_there_is_no_dom0() {
    let mut run = start_domains(&[1]);
    assert_eq!(run.current(), Some(1));
    assert_eq!(
        run.shutdown(SHUTDOWN_POWEROFF),
        Err(RunEnd {
            verdict: DebugExit::Failure,
            reason: "no domain left"
        })
    );
    assert!(
        run.machine.logged("domain 1's memory given back"),
        "its teardown finished first"
    );
}

#[test]
#[should_panic(expected = "hypervisor fault")]
fn a_trap_from_ring_3_with_no_vcpu_on_the_cpu_is_the_hypervisors_fault() {
    let mut hypervisor = Box::new(Hypervisor::new());
    let mut machine = FakeMachine::default();
    let mut frame = TrapFrame {
        vector: 6,
        ..TrapFrame::default()
    };
    let _ = hypervisor.handle_trap(&mut Cpu::default(), &mut frame, &mut machine);
}
