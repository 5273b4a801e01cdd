//! Traps from guests: hypercalls, exceptions for the guest's own handlers,
//! privileged instructions to emulate, the timer, switching between
//! domains, idling, and the end of a domain.

use crate::arch::control_registers::cr2;
use crate::arch::physical_memory::PhysicalWindow;
use crate::arch::qemu_exit::exit;
use crate::arch::serial::Serial;
use crate::arch::{clock, fpu, lapic, paging, segment_base};
use crate::console;
use crate::platform::KernelPlatform;
use core::sync::atomic::{AtomicBool, Ordering};
use spin::Mutex;
use xen_abi::sched::{SHUTDOWN_CRASH, SHUTDOWN_POWEROFF};
use xen_core::debug_exit::DebugExit;
use xen_core::domain::bounce::{bounce_event, bounce_exception, has_error_code};
use xen_core::domain::domain_death::begin_destroy_domain;
use xen_core::domain::domain_table::{DomainTable, Others};
use xen_core::domain::privileged_op::{Emulation, emulate_privileged};
use xen_core::domain::pv_domain::{DomId, DomainState, PvDomain};
use xen_core::event::console_virq::{next_console_poll, signal_console_input};
use xen_core::hypercall::handle_hypercall;
use xen_core::mm::budget::Budget;
use xen_core::mm::{FrameTable, Mfn};
use xen_core::sched::{Cpu, CreditScheduler};
use xen_core::time::vcpu_time::publish_vcpu_time;
use xen_core::trap_frame::{HYPERCALL_GATE_VECTOR, SYSCALL32_VECTOR, TrapFrame};

/// Everything the traps work on, behind one lock that each trap takes once.
struct Running {
    /// Every domain.
    domains: DomainTable,
    /// The PV MMU's state of every machine frame (set at start).
    frames: Option<FrameTable<'static>>,
    /// What this CPU runs.
    cpu: Cpu,
    /// Shares the CPU between vCPUs.
    scheduler: CreditScheduler,
    /// The hypervisor's own L4, loaded while no domain runs.
    idle_l4: Mfn,
}

static RUNNING: Mutex<Running> = Mutex::new(Running {
    domains: DomainTable::new(),
    frames: None,
    cpu: Cpu {
        current: None,
        since: 0,
        idle: 0,
    },
    scheduler: CreditScheduler::new(1),
    idle_l4: Mfn(0),
});

/// Adds a built domain, its first registers in `vcpu.context`; gives it
/// back if its id is taken.
#[allow(clippy::result_large_err)] // see DomainTable::insert
pub fn add_domain(domain: PvDomain) -> Result<(), PvDomain> {
    RUNNING.lock().domains.insert(domain)
}

/// Starts scheduling over `frames`, with `idle_l4` (the hypervisor's own
/// tables) loaded whenever no domain runs; never returns.
pub fn start(frames: FrameTable<'static>, idle_l4: Mfn) -> ! {
    let mut frame = TrapFrame::default();
    {
        let mut running = RUNNING.lock();
        let running = &mut *running;
        running.frames = Some(frames);
        running.idle_l4 = idle_l4;
        let now = clock::now_ns();
        running.cpu.since = now;
        // Periodic ticks count from when scheduling starts, not from boot:
        // building the domains took longer than a tick.
        for domain in running.domains.iter_mut() {
            let period = domain.vcpu.timers.period;
            domain.vcpu.timers.set_period(period, now);
        }
        schedule(running, &mut frame);
        if let Some(domain) = running.cpu.current.and_then(|id| running.domains.get_mut(id)) {
            deliver_events(domain, &mut frame);
        }
    }
    crate::arch::entry::enter_guest(frame)
}

/// Vectors with their own handling.
const DEVICE_NOT_AVAILABLE: u8 = 7;
const GENERAL_PROTECTION: u8 = 13;
const PAGE_FAULT: u8 = 14;

/// The domain on the CPU (`current`), the others and the frame table, for
/// a trap from ring 3. With no domain on the CPU, or no frame table yet,
/// nothing of ours ran in ring 3: the trap is reported as the hypervisor's.
#[inline(always)]
fn on_cpu<'a>(
    domains: &'a mut DomainTable,
    frames: &'a mut Option<FrameTable<'static>>,
    current: Option<DomId>,
    frame: &TrapFrame,
) -> (&'a mut PvDomain, Others<'a>, &'a mut FrameTable<'static>) {
    let (Some(id), Some(frames)) = (current, frames.as_mut()) else {
        crate::crash_report::report_exception(frame);
    };
    let Some((domain, others)) = domains.split(id) else {
        crate::crash_report::report_exception(frame);
    };
    (domain, others, frames)
}

/// Handles a `syscall` from ring 3: a hypercall, the fast path. Returns
/// whether the scheduler must run, which needs the whole frame
/// ([`reschedule_after_syscall`]).
pub fn handle_syscall(frame: &mut TrapFrame) -> bool {
    let mut running = RUNNING.lock();
    let running = &mut *running;
    let (domain, others, frames) = on_cpu(&mut running.domains, &mut running.frames, running.cpu.current, frame);
    let outcome = handle_hypercall(domain, others, frames, frame, &mut KernelPlatform::new());
    if outcome.reschedule || !domain.is_running() {
        return true;
    }
    // An unchanged resume point is the hardware's own frame: right selectors
    // and flags, but even its RIP may be non-canonical (see rip_is_canonical).
    let safe = if outcome.resume_changed {
        frame.is_safe_guest_return()
    } else {
        frame.rip_is_canonical()
    };
    // An upcall needs only the registers the bounce frame holds, all in
    // the syscall frame: deliver it here, not through the scheduler.
    !safe || !deliver_events(domain, frame)
}

/// The rest of a hypercall that asked for the scheduler, a domain that
/// stopped, an unsafe resume point or an upcall, with the whole frame.
pub fn reschedule_after_syscall(frame: &mut TrapFrame) {
    let mut running = RUNNING.lock();
    leave(&mut running, frame, true);
}

/// Handles any other trap from ring 3 (exceptions, the `int 0x82` gate, the
/// timer).
pub fn handle(frame: &mut TrapFrame) {
    let mut running = RUNNING.lock();
    let running = &mut *running;
    let (domain, others, frames) = on_cpu(&mut running.domains, &mut running.frames, running.cpu.current, frame);
    let mut platform = KernelPlatform::new();
    let reschedule = if frame.vector == u64::from(lapic::TIMER_VECTOR) {
        lapic::end_of_interrupt();
        true
    } else if frame.vector == SYSCALL32_VECTOR {
        error!(
            "d{} ({}): syscall from 32-bit code at rip {:#x}",
            domain.id, domain.name, frame.rip
        );
        domain.crash("32-bit syscall, which 64-bit PV guests cannot use");
        true
    } else if frame.vector == HYPERCALL_GATE_VECTOR {
        handle_hypercall(domain, others, frames, frame, &mut platform).reschedule
    } else {
        handle_exception(domain, frame, &mut platform, frame.vector as u8);
        false
    };
    leave(running, frame, reschedule);
}

/// The way back to a guest: refuse an unsafe resume point, end a domain
/// that stopped, run the scheduler if asked (which may switch to another
/// domain or idle), deliver pending events, load registers the guest
/// changed.
fn leave(running: &mut Running, frame: &mut TrapFrame, mut reschedule: bool) {
    loop {
        if let Some(id) = running.cpu.current {
            let domain = running.domains.get_mut(id).expect("the current domain is in the table");
            if domain.is_running() && !frame.is_safe_guest_return() {
                error!(
                    "d{}: return to rip {:#x} cs {:#x} refused",
                    domain.id, frame.rip, frame.cs
                );
                domain.crash("unsafe return frame");
            }
            if !domain.is_running() {
                end_domain(running, id, frame);
                reschedule = true;
            }
        }
        if reschedule {
            schedule(running, frame);
            reschedule = false;
            continue;
        }
        let Some(domain) = running.cpu.current.and_then(|id| running.domains.get_mut(id)) else {
            return;
        };
        if deliver_events(domain, frame) {
            return;
        }
    }
}

/// Bounces to the running domain's event callback if an upcall is due and
/// loads registers it changed. Returns false if the domain crashed on it.
/// The usual case, neither, is two tests inline on the hypercall path.
#[inline(always)]
fn deliver_events(domain: &mut PvDomain, frame: &mut TrapFrame) -> bool {
    let upcall = domain.upcall_deliverable(&PhysicalWindow::DIRECT_MAP);
    if !upcall && !domain.vcpu.loadable_changed() {
        return true;
    }
    deliver_events_now(domain, frame, upcall)
}

/// [`deliver_events`] with work to do.
#[inline(never)]
fn deliver_events_now(domain: &mut PvDomain, frame: &mut TrapFrame, upcall: bool) -> bool {
    let mut platform = KernelPlatform::new();
    if upcall && let Err(error) = bounce_event(domain, frame, &mut platform) {
        error!("d{} ({}): event upcall failed: {}", domain.id, domain.name, error);
        domain.crash("event upcall could not be delivered");
        return false;
    }
    if let Some(state) = domain.vcpu.take_loadable_state() {
        load_registers(state);
    }
    true
}

/// Set when VIRQ_CONSOLE was raised for waiting input, cleared when dom0
/// reads the console ([`KernelPlatform`]'s `console_read`): one signal per
/// batch of input, not one per scheduling pass while dom0 has not read it.
pub static CONSOLE_SIGNALLED: AtomicBool = AtomicBool::new(false);

/// Picks what runs next and puts it on the CPU, its registers in `frame`;
/// idles (halting) while nothing is runnable. Arms the timer for the next
/// thing that needs looking at.
fn schedule(running: &mut Running, frame: &mut TrapFrame) {
    loop {
        give_back_orphans(running);
        if running.frames.as_ref().is_some_and(FrameTable::teardowns_pending) {
            relinquish_some(running, Budget::per_invocation());
        }
        let now = clock::now_ns();
        let mut memory = PhysicalWindow::DIRECT_MAP;
        // Charge the vCPU that ran before waking any: a vCPU woken now keeps
        // its boost for the choice below.
        running.cpu.charge_until(&running.scheduler, &mut running.domains, now);
        running.cpu.run_timers(&mut running.domains, &mut memory, now);
        let console_poll = next_console_poll(&running.domains, now);
        if console_poll.is_some() && !CONSOLE_SIGNALLED.load(Ordering::Relaxed) && Serial::COM1.input_waiting() {
            signal_console_input(&mut running.domains, &mut memory, true);
            CONSOLE_SIGNALLED.store(true, Ordering::Relaxed);
        }
        let next = running.cpu.choose(&mut running.scheduler, &mut running.domains, now);
        if let Some(id) = next {
            switch_to(running, frame, id);
        } else {
            switch_out(running, frame);
        }
        let deadline = running.cpu.next_deadline(&running.scheduler, &running.domains, now);
        match [deadline, console_poll].into_iter().flatten().min() {
            Some(deadline) => clock::arm_timer_at(deadline),
            None => lapic::disarm(),
        }
        if next.is_some() {
            return;
        }
        if running.frames.as_ref().is_some_and(FrameTable::teardowns_pending) {
            // A dead domain's memory is still going back: no halting first.
            continue;
        }
        if running.domains.iter().next().is_none() {
            console::always(format_args!("*** hypervisor halted: no domain left"));
            exit(DebugExit::Failure);
        }
        lapic::wait_for_interrupt();
    }
}

/// Saves the current vCPU's registers (if one runs) and leaves the CPU
/// idle on the hypervisor's own tables.
fn switch_out(running: &mut Running, frame: &TrapFrame) {
    if let Some(id) = running.cpu.current.take()
        && let Some(domain) = running.domains.get_mut(id)
    {
        domain.vcpu.context = *frame;
        fpu::save(&mut domain.vcpu.fpu);
        paging::load_root(running.idle_l4);
    }
}

/// Puts domain `id`'s vCPU on the CPU: its registers into `frame`, its
/// page tables, segment bases, FPU state and a fresh `vcpu_time_info`.
fn switch_to(running: &mut Running, frame: &mut TrapFrame, id: DomId) {
    if running.cpu.current == Some(id) {
        return;
    }
    switch_out(running, frame);
    let domain = running.domains.get_mut(id).expect("picked from the table");
    let Some(base) = domain.vcpu.kernel_base.as_ref().map(|base| base.mfn()) else {
        // The builder always sets one and it is only ever replaced.
        unreachable!("a runnable vCPU without page tables");
    };
    *frame = domain.vcpu.context;
    paging::load_root(base);
    fpu::restore(&domain.vcpu.fpu);
    let _ = domain.vcpu.take_loadable_state();
    load_registers(domain.vcpu.loadable());
    let clock = clock::calibrate();
    let mut memory = PhysicalWindow::DIRECT_MAP;
    publish_vcpu_time(&mut memory, domain.shared_info, 0, clock::reading(), clock.scale);
    running.cpu.current = Some(id);
}

/// Loads registers the guest changed since the last return.
#[inline(never)]
fn load_registers(state: xen_core::domain::vcpu::LoadableState) {
    segment_base::load(state.fs_base, state.gs_base_kernel);
    fpu::set_task_switched(state.fpu_task_switched);
}

/// An exception raised by guest code.
fn handle_exception(domain: &mut PvDomain, frame: &mut TrapFrame, platform: &mut KernelPlatform, vector: u8) {
    let result = match vector {
        // The guest's virtual CR0.TS was set: like Xen, clear it and let the
        // guest's handler decide (it usually restores FPU state).
        DEVICE_NOT_AVAILABLE => {
            domain.vcpu.update_loadable(|state| state.fpu_task_switched = false);
            bounce_exception(domain, frame, platform, vector, None, None)
        }
        GENERAL_PROTECTION if frame.error_code == 0 => match emulate_privileged(domain, frame, platform) {
            Emulation::Done => Ok(()),
            Emulation::GeneralProtection => bounce_exception(domain, frame, platform, vector, Some(0), None),
        },
        // `int n` through one of our DPL-0 gates: allowed if the guest's own
        // trap table says so (DPL >= 1 from guest kernel mode).
        GENERAL_PROTECTION if frame.error_code & 7 == 2 => {
            let software = (frame.error_code >> 3) as u8;
            let handler = domain.vcpu.traps[usize::from(software)];
            let lowest = if domain.vcpu.kernel_mode { 1 } else { 3 };
            if handler.address != 0 && handler.dpl >= lowest {
                frame.rip = frame.rip.wrapping_add(2);
                bounce_exception(domain, frame, platform, software, None, None)
            } else {
                bounce_exception(domain, frame, platform, vector, Some(frame.error_code), None)
            }
        }
        PAGE_FAULT => bounce_exception(domain, frame, platform, vector, Some(frame.error_code), Some(cr2())),
        _ => {
            let code = has_error_code(vector).then_some(frame.error_code);
            bounce_exception(domain, frame, platform, vector, code, None)
        }
    };
    if let Err(error) = result {
        error!(
            "d{} ({}): exception {} ({}) at rip {:#x}: {}",
            domain.id,
            domain.name,
            vector,
            crate::crash_report::exception_name(u64::from(vector)),
            frame.rip,
            error
        );
        domain.crash("unhandled exception");
    }
}

/// Domain `id` stopped. dom0's end is the end of the run: powering off is
/// success, a crash gets its own exit code. Any other domain is destroyed
/// (its ports closed, dom0 told through VIRQ_DOM_EXC, its memory freed) and
/// the others go on.
///
/// Out of line: destroying a domain moves it (tens of KiB) onto the
/// stack, and inlined into `leave` that frame, with its stack probes,
/// would be paid on every return to a guest.
#[inline(never)]
fn end_domain(running: &mut Running, id: DomId, frame: &TrapFrame) {
    let domain = running.domains.get_mut(id).expect("ending a domain in the table");
    domain.flush_console(&mut KernelPlatform::new());
    let name = &domain.name;
    let verdict = match domain.state {
        DomainState::Shutdown(SHUTDOWN_POWEROFF) => {
            info!("domain {id} ({name}) powered off");
            DebugExit::Success
        }
        DomainState::Shutdown(SHUTDOWN_CRASH) => {
            error!(
                "domain {id} ({name}) shut down with reason crash at rip {:#x}",
                frame.rip
            );
            DebugExit::GuestCrashed
        }
        DomainState::Shutdown(reason) => {
            warn!("domain {id} ({name}) shut down with reason {reason}; nothing restarts it");
            DebugExit::Success
        }
        DomainState::Crashed | DomainState::Running => {
            let reason = domain.crash_reason.unwrap_or("unknown");
            error!("domain {id} ({name}) crashed: {reason}");
            DebugExit::GuestCrashed
        }
    };
    if id == 0 {
        // Teardowns still under way are finished, and frames dom0 unmapped
        // since the last scheduling pass counted too.
        relinquish_some(running, Budget::unlimited());
        give_back_orphans(running);
        log_cpu_time(running);
        match verdict {
            DebugExit::Success => console::always(format_args!("*** hypervisor halted: success")),
            _ => console::always(format_args!("*** hypervisor halted: dom0 crashed")),
        }
        exit(verdict)
    }
    if running.cpu.current == Some(id) {
        // Its last run counts as its time, not as idle.
        running
            .cpu
            .charge_until(&running.scheduler, &mut running.domains, clock::now_ns());
        running.cpu.current = None;
        paging::load_root(running.idle_l4);
    }
    let ran = running
        .domains
        .get(id)
        .map_or(0, |domain| domain.vcpu.sched.total_run());
    let frames = running.frames.as_mut().expect("set at start");
    let mut memory = PhysicalWindow::DIRECT_MAP;
    let mut allocator = crate::boot::FRAMES.lock();
    let destroyed = begin_destroy_domain(&mut running.domains, frames, &mut memory, id, &mut |mfn| {
        // Every frame a domain held came from the allocator.
        let _ = allocator.free(mfn);
    });
    drop(allocator);
    if destroyed.is_some() {
        info!(
            "domain {id} destroyed: ran {} us; dom0 told (VIRQ_DOM_EXC); its memory goes back over the next passes",
            ran / 1000
        );
    }
    log_cpu_time(running);
}

/// Goes on giving back destroyed domains' memory within `budget` (a bounded
/// part per scheduling pass, so a large domain's end stalls nobody), and
/// logs each domain whose teardown finished. Out of line: the scheduler
/// calls it only while a teardown is under way.
#[cold]
#[inline(never)]
fn relinquish_some(running: &mut Running, mut budget: Budget) {
    let Some(frames) = running.frames.as_mut() else {
        return;
    };
    if !frames.teardowns_pending() {
        return;
    }
    let mut memory = PhysicalWindow::DIRECT_MAP;
    let mut allocator = crate::boot::FRAMES.lock();
    let finished = frames.relinquish_steps(&mut memory, &mut budget, &mut |mfn| {
        let _ = allocator.free(mfn);
    });
    for (id, teardown) in &finished {
        info!(
            "domain {id}'s memory given back: {} frames freed, {} still referenced",
            teardown.freed, teardown.still_referenced
        );
    }
}

/// Returns to the allocator the frames of destroyed domains that became
/// free since (another domain's last mapping of them went).
fn give_back_orphans(running: &mut Running) {
    if let Some(frames) = running.frames.as_mut()
        && frames.has_freed_orphans()
    {
        let mut allocator = crate::boot::FRAMES.lock();
        let mut given = 0;
        for mfn in frames.take_freed_orphans() {
            if allocator.free(mfn).is_ok() {
                given += 1;
            }
        }
        info!("frames: {given} of ended domains given back, their last mapping gone");
        if frames.lost_orphans() > 0 {
            warn!(
                "frames: {} of ended domains lost (the queue was full)",
                frames.lost_orphans()
            );
        }
    }
}

/// Logs how long each domain left has run and how long the CPU idled, as
/// of now: at the end of the run and after each domain's end (what `xl
/// list` shows as Time).
fn log_cpu_time(running: &mut Running) {
    let now = clock::now_ns();
    running.cpu.charge_until(&running.scheduler, &mut running.domains, now);
    for domain in running.domains.iter() {
        info!(
            "cpu time: d{} ({}) ran {} us",
            domain.id,
            domain.name,
            domain.vcpu.sched.total_run() / 1000
        );
    }
    info!("cpu time: idle {} us", running.cpu.idle / 1000);
}
