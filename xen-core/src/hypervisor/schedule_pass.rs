//! One scheduling pass: timers fired, console input signalled, the next
//! vCPU chosen and put on the CPU, or the CPU idled until there is one.

use super::{Hypervisor, RunEnd};
use crate::arch::{GuestMemory, Machine};
use crate::debug_exit::DebugExit;
use crate::domain::bounce::bounce_failsafe;
use crate::domain::pv_domain::PvDomain;
use crate::domain::vcpu::PendingLoad;
use crate::event::console_virq::{next_console_poll, signal_console_input};
use crate::log_level::LogLevel;
use crate::mm::budget::Budget;
use crate::mm::ldt_view::LdtView;
use crate::sched::Cpu;
use crate::time::vcpu_time::publish_vcpu_time;
use crate::trap_frame::TrapFrame;
use xen_abi::mmu::{DomId, VMASST_TYPE_RUNSTATE_UPDATE_FLAG};
use xen_abi::trap::FIRST_RESERVED_GDT_PAGE;
use xen_abi::vcpu::{RUNSTATE_BLOCKED, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING};

impl Hypervisor {
    /// Picks what runs next and puts it on the CPU, its registers in
    /// `frame`; idles (halting) while nothing is runnable. Arms the timer
    /// for the next thing that needs looking at. The run ends here when no
    /// domain is left.
    pub(super) fn schedule<M: Machine>(
        &mut self,
        cpu: &mut Cpu,
        frame: &mut TrapFrame,
        machine: &mut M,
    ) -> Result<(), RunEnd> {
        loop {
            self.give_back_orphans(machine);
            if self.teardowns_pending() {
                self.relinquish_some(Budget::per_invocation(), machine);
            }
            let now = machine.now_ns();
            // Charge the vCPU that ran before waking any: a vCPU woken now
            // keeps its boost for the choice below.
            cpu.charge_until(&self.scheduler, &mut self.domains, now);
            cpu.run_timers(&mut self.domains, machine.memory(), now);
            let console_poll = next_console_poll(&self.domains, now);
            if console_poll.is_some() && machine.take_console_input_signal() {
                signal_console_input(&mut self.domains, machine.memory(), true);
            }
            let next = cpu.choose(&mut self.scheduler, &mut self.domains, now);
            match next {
                Some(id) => self.switch_to(cpu, frame, id, now, machine),
                None => {
                    self.switch_out(cpu, frame, now, machine);
                    // Idle shows no guest's GDT or LDT: a frame of one may
                    // be freed now.
                    machine.guest().load_gdt(&[None; FIRST_RESERVED_GDT_PAGE]);
                    machine.guest().load_ldt(&LdtView::default());
                }
            }
            let deadline = cpu.next_deadline(&self.scheduler, &self.domains, now);
            machine.arm_timer([deadline, console_poll].into_iter().flatten().min());
            if next.is_some() {
                return Ok(());
            }
            if self.teardowns_pending() {
                // A dead domain's memory is still going back: no halting first.
                continue;
            }
            if self.domains.iter().next().is_none() {
                return Err(RunEnd {
                    verdict: DebugExit::Failure,
                    reason: "no domain left",
                });
            }
            machine.wait_for_interrupt();
        }
    }

    /// Saves the current vCPU's registers (if one runs) and leaves the CPU
    /// idle on the hypervisor's own tables.
    pub(super) fn switch_out<M: Machine>(&mut self, cpu: &mut Cpu, frame: &TrapFrame, now: u64, machine: &mut M) {
        if let Some(id) = cpu.current.take()
            && let Some(domain) = self.domains.get_mut(id)
        {
            domain.vcpu.context = *frame;
            // What the CPU holds is the vCPU's own only once a change made
            // on its way back (a mode switch, new bases) is in.
            match domain.vcpu.take_loadable_state() {
                Some(PendingLoad::All(registers)) => machine.load_registers(registers),
                Some(PendingLoad::SwapGs) => machine.swap_gs(),
                None => {}
            }
            let saved = machine.save_segments();
            domain.vcpu.keep_saved_segments(saved);
            machine.save_fpu(&mut domain.vcpu.fpu);
            let state = if domain.vcpu.run_state().is_runnable() {
                RUNSTATE_RUNNABLE
            } else {
                RUNSTATE_BLOCKED
            };
            domain.vcpu.runstate.enter(state, now);
            // Still on the vCPU's tables: its area is in its address space.
            let update_flag = domain.vm_assist(VMASST_TYPE_RUNSTATE_UPDATE_FLAG);
            domain.vcpu.runstate.publish(machine.guest(), update_flag);
            machine.guest().load_page_table_base(self.idle_l4);
        }
    }

    /// Puts domain `id`'s vCPU on the CPU: its registers into `frame`, its
    /// page tables, segment bases, FPU state and a fresh `vcpu_time_info`.
    fn switch_to<M: Machine>(&mut self, cpu: &mut Cpu, frame: &mut TrapFrame, id: DomId, now: u64, machine: &mut M) {
        if cpu.current == Some(id) {
            return;
        }
        self.switch_out(cpu, frame, now, machine);
        let domain = self.domains.get_mut(id).expect("picked from the table");
        let Some(base) = domain.vcpu.active_base() else {
            // The builder always sets a kernel base and it is only ever
            // replaced; user mode is entered only with a user base, which
            // is then only replaced while in kernel mode.
            unreachable!("a runnable vCPU without page tables");
        };
        *frame = domain.vcpu.context;
        machine.guest().load_page_table_base(base);
        machine.guest().load_gdt(&domain.vcpu.gdt_frames());
        machine.guest().load_ldt(&domain.vcpu.ldt.view());
        let frames = self.frames.as_mut().expect("scheduling runs over the frame table");
        let (selectors, all_loaded) = domain.loadable_selectors(frames, machine);
        machine.load_selectors(selectors);
        if !all_loaded {
            fail_safe(domain, frame, machine);
        }
        domain.vcpu.runstate.enter(RUNSTATE_RUNNING, now);
        let update_flag = domain.vm_assist(VMASST_TYPE_RUNSTATE_UPDATE_FLAG);
        domain.vcpu.runstate.publish(machine.guest(), update_flag);
        machine.restore_fpu(&domain.vcpu.fpu);
        // Every register, the bases after the selectors that replaced them.
        let _ = domain.vcpu.take_loadable_state();
        machine.load_registers(domain.vcpu.registers_to_load());
        let (reading, scale) = machine.clock();
        publish_vcpu_time(machine.memory(), domain.vcpu_info_address(), reading, scale);
        cpu.current = Some(id);
    }
}

/// Delivers the failsafe callback to a vCPU whose saved selectors could not
/// all be loaded again; a domain that cannot take it is crashed (Xen lets it
/// run at address 0 without a callback, and crashes it on a bad stack).
fn fail_safe<M: Machine>(domain: &mut PvDomain, frame: &mut TrapFrame, machine: &mut M) {
    let saved = domain.vcpu.selectors;
    if let Err(error) = bounce_failsafe(domain, frame, machine, saved) {
        machine.log(
            LogLevel::Error,
            format_args!("d{} ({}): {}", domain.id(), domain.name(), error),
        );
        domain.crash("failsafe callback could not be delivered");
    }
}
