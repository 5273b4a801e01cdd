//! The way in from a guest and back: a hypercall, any other trap, and the
//! checks and deliveries on every return.

use super::{Hypervisor, RunEnd};
use crate::arch::Machine;
use crate::domain::bounce::{bounce_event, bounce_syscall};
use crate::domain::domain_table::{DomainTable, Others};
use crate::domain::pv_domain::PvDomain;
use crate::domain::vcpu::PendingLoad;
use crate::exception_vector::GENERAL_PROTECTION;
use crate::hypercall::handle_hypercall;
use crate::log_level::LogLevel;
use crate::mm::FrameTable;
use crate::sched::Cpu;
use crate::trap_frame::{HYPERCALL_GATE_VECTOR, SYSCALL32_VECTOR, TIMER_VECTOR, TrapFrame};
use xen_abi::mmu::DomId;

impl Hypervisor {
    /// Handles a `syscall` from ring 3: a hypercall, the fast path. Returns
    /// whether the scheduler must run, which needs the whole frame
    /// ([`Hypervisor::reschedule_after_syscall`]).
    #[inline]
    pub fn handle_syscall<M: Machine>(&mut self, cpu: &Cpu, frame: &mut TrapFrame, machine: &mut M) -> bool {
        let (domain, others, frames) = on_cpu(&mut self.domains, &mut self.frames, cpu.current, frame, machine);
        if !domain.vcpu.kernel_mode() {
            let delivered = user_syscall(domain, frame, machine);
            return !(delivered
                && domain.resume_is_safe(machine.memory(), frame)
                && deliver_events(domain, frame, machine));
        }
        let outcome = handle_hypercall(domain, others, frames, frame, machine);
        if outcome.reschedule || !domain.is_running() {
            return true;
        }
        // An unchanged resume point is the hardware's own frame: right
        // selectors and flags, but even its RIP may be non-canonical (see
        // rip_is_canonical).
        let safe = if outcome.resume_changed {
            domain.resume_is_safe(machine.memory(), frame)
        } else {
            frame.rip_is_canonical()
        };
        // An upcall needs only the registers the bounce frame holds, all in
        // the syscall frame: deliver it here, not through the scheduler.
        !safe || !deliver_events(domain, frame, machine)
    }

    /// The rest of a hypercall that asked for the scheduler, a domain that
    /// stopped, an unsafe resume point or an upcall, with the whole frame.
    pub fn reschedule_after_syscall<M: Machine>(
        &mut self,
        cpu: &mut Cpu,
        frame: &mut TrapFrame,
        machine: &mut M,
    ) -> Result<(), RunEnd> {
        self.leave(cpu, frame, machine, true)
    }

    /// Handles any other trap from ring 3: an exception, the `int 0x82`
    /// gate, the timer.
    pub fn handle_trap<M: Machine>(
        &mut self,
        cpu: &mut Cpu,
        frame: &mut TrapFrame,
        machine: &mut M,
    ) -> Result<(), RunEnd> {
        let (domain, others, frames) = on_cpu(&mut self.domains, &mut self.frames, cpu.current, frame, machine);
        let reschedule = if frame.vector == u64::from(TIMER_VECTOR) {
            machine.end_timer_interrupt();
            true
        } else if frame.vector == SYSCALL32_VECTOR && !domain.vcpu.kernel_mode() {
            // A 32-bit user program's system call: the guest kernel's.
            user_syscall(domain, frame, machine);
            false
        } else if frame.vector == SYSCALL32_VECTOR {
            machine.log(
                LogLevel::Error,
                format_args!(
                    "d{} ({}): syscall from 32-bit code at rip {:#x}",
                    domain.id(),
                    domain.name(),
                    frame.rip
                ),
            );
            domain.crash("32-bit syscall, which 64-bit PV guests cannot use");
            true
        } else if frame.vector == HYPERCALL_GATE_VECTOR && domain.vcpu.kernel_mode() {
            handle_hypercall(domain, others, frames, frame, machine).reschedule
        } else if frame.vector == HYPERCALL_GATE_VECTOR {
            // User programs make no hypercalls: to them the gate is any
            // `int 0x82`, the #GP a gate they may not use raises, with RIP
            // back on the instruction (the trap table may still allow it).
            frame.rip = frame.rip.wrapping_sub(2);
            frame.error_code = (HYPERCALL_GATE_VECTOR << 3) | 2;
            super::guest_exception::handle_exception(domain, frame, machine, GENERAL_PROTECTION, frames);
            false
        } else {
            super::guest_exception::handle_exception(domain, frame, machine, frame.vector as u8, frames);
            false
        };
        self.leave(cpu, frame, machine, reschedule)
    }

    /// The way back to a guest: refuse an unsafe resume point, end a domain
    /// that stopped, run the scheduler if asked (which may switch to another
    /// domain or idle), deliver pending events, load registers the guest
    /// changed.
    pub(super) fn leave<M: Machine>(
        &mut self,
        cpu: &mut Cpu,
        frame: &mut TrapFrame,
        machine: &mut M,
        mut reschedule: bool,
    ) -> Result<(), RunEnd> {
        loop {
            if let Some(id) = cpu.current {
                let domain = self.domains.get_mut(id).expect("the current domain is in the table");
                if domain.is_running() && !domain.resume_is_safe(machine.memory(), frame) {
                    machine.log(
                        LogLevel::Error,
                        format_args!(
                            "d{}: return to rip {:#x} cs {:#x} refused",
                            domain.id(),
                            frame.rip,
                            frame.cs
                        ),
                    );
                    domain.crash("unsafe return frame");
                }
                if !domain.is_running() {
                    self.end_domain(cpu, id, frame, machine)?;
                    reschedule = true;
                }
            }
            if reschedule {
                self.schedule(cpu, frame, machine)?;
                reschedule = false;
                continue;
            }
            let Some(domain) = cpu.current.and_then(|id| self.domains.get_mut(id)) else {
                return Ok(());
            };
            if deliver_events(domain, frame, machine) {
                return Ok(());
            }
        }
    }
}

/// The domain on the CPU (`current`), the others and the frame table, for
/// a trap from ring 3. With no domain on the CPU, or no frame table yet,
/// nothing of ours ran in ring 3: the trap is reported as the hypervisor's.
#[inline(always)]
fn on_cpu<'a, M: Machine>(
    domains: &'a mut DomainTable,
    frames: &'a mut Option<FrameTable<'static>>,
    current: Option<DomId>,
    frame: &TrapFrame,
    machine: &mut M,
) -> (&'a mut PvDomain, Others<'a>, &'a mut FrameTable<'static>) {
    let (Some(id), Some(frames)) = (current, frames.as_mut()) else {
        machine.report_hypervisor_fault(frame);
    };
    let Some((domain, others)) = domains.split(id) else {
        machine.report_hypervisor_fault(frame);
    };
    (domain, others, frames)
}

/// A `syscall` in guest user mode: no hypercall (only the guest kernel
/// makes those) but the user program's system call, bounced to the guest
/// kernel's syscall callback. Returns false if the domain crashed on it.
#[inline(never)]
fn user_syscall<M: Machine>(domain: &mut PvDomain, frame: &mut TrapFrame, machine: &mut M) -> bool {
    if let Err(error) = bounce_syscall(domain, frame, machine) {
        machine.log(
            LogLevel::Error,
            format_args!(
                "d{} ({}): syscall from user mode at rip {:#x}: {}",
                domain.id(),
                domain.name(),
                frame.rip,
                error
            ),
        );
        domain.crash("user-mode syscall could not be delivered");
        return false;
    }
    true
}

/// Bounces to the running domain's event callback if an upcall is due and
/// loads registers it changed. Returns false if the domain crashed on it.
/// The usual case, neither, is two tests inline on the hypercall path.
#[inline(always)]
fn deliver_events<M: Machine>(domain: &mut PvDomain, frame: &mut TrapFrame, machine: &mut M) -> bool {
    // The usual case in two tests: no upcall flagged, nothing to load (a
    // flagged but masked upcall takes the slower path, which looks again).
    if !domain.upcall_flagged(machine.memory()) && !domain.vcpu.loadable_changed() {
        return true;
    }
    let upcall = domain.upcall_deliverable(machine.memory());
    deliver_events_now(domain, frame, machine, upcall)
}

/// [`deliver_events`] with work to do.
#[inline(never)]
fn deliver_events_now<M: Machine>(domain: &mut PvDomain, frame: &mut TrapFrame, machine: &mut M, upcall: bool) -> bool {
    if upcall && let Err(error) = bounce_event(domain, frame, machine) {
        machine.log(
            LogLevel::Error,
            format_args!("d{} ({}): event upcall failed: {}", domain.id(), domain.name(), error),
        );
        domain.crash("event upcall could not be delivered");
        return false;
    }
    match domain.vcpu.take_loadable_state() {
        Some(PendingLoad::All(registers)) => machine.load_registers(registers),
        Some(PendingLoad::SwapGs) => machine.swap_gs(),
        None => {}
    }
    true
}
