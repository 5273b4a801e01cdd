//! A domain that stopped: dom0's end is the end of the run, any other
//! domain is destroyed while the rest go on.

use super::{Hypervisor, RunEnd};
use crate::arch::{FrameSink, GuestMemory, Machine};
use crate::debug_exit::DebugExit;
use crate::domain::domain_death::begin_destroy_domain;
use crate::domain::pv_domain::DomainState;
use crate::log_level::LogLevel;
use crate::mm::budget::Budget;
use crate::sched::Cpu;
use crate::trap_frame::TrapFrame;
use xen_abi::mmu::DomId;
use xen_abi::sched::{SHUTDOWN_CRASH, SHUTDOWN_POWEROFF};
use xen_abi::trap::FIRST_RESERVED_GDT_PAGE;

impl Hypervisor {
    /// Domain `id` stopped. dom0's end is the end of the run: powering off
    /// is success, a crash gets its own exit code. Any other domain is
    /// destroyed (its ports closed, dom0 told through VIRQ_DOM_EXC, its
    /// memory given back over the next passes) and the others go on.
    ///
    /// Out of line: it is rare, and inlined into `leave` its frame would
    /// be paid on every return to a guest.
    #[inline(never)]
    pub(super) fn end_domain<M: Machine>(
        &mut self,
        cpu: &mut Cpu,
        id: DomId,
        frame: &TrapFrame,
        machine: &mut M,
    ) -> Result<(), RunEnd> {
        let domain = self.domains.get_mut(id).expect("ending a domain in the table");
        domain.flush_console(machine);
        let name = &domain.name();
        let verdict = match domain.state() {
            DomainState::Shutdown(SHUTDOWN_POWEROFF) => {
                machine.log(LogLevel::Info, format_args!("domain {id} ({name}) powered off"));
                DebugExit::Success
            }
            DomainState::Shutdown(SHUTDOWN_CRASH) => {
                machine.log(
                    LogLevel::Error,
                    format_args!(
                        "domain {id} ({name}) shut down with reason crash at rip {:#x}",
                        frame.rip
                    ),
                );
                DebugExit::GuestCrashed
            }
            DomainState::Shutdown(reason) => {
                machine.log(
                    LogLevel::Warn,
                    format_args!("domain {id} ({name}) shut down with reason {reason}; nothing restarts it"),
                );
                DebugExit::Success
            }
            DomainState::Crashed | DomainState::Running => {
                let reason = domain.crash_reason().unwrap_or("unknown");
                machine.log(LogLevel::Error, format_args!("domain {id} ({name}) crashed: {reason}"));
                DebugExit::GuestCrashed
            }
        };
        if id == 0 {
            // Teardowns still under way are finished, and frames dom0
            // unmapped since the last scheduling pass counted too.
            self.relinquish_some(Budget::unlimited(), machine);
            self.give_back_orphans(machine);
            self.log_cpu_time(cpu, machine);
            let reason = match verdict {
                DebugExit::Success => "success",
                _ => "dom0 crashed",
            };
            return Err(RunEnd { verdict, reason });
        }
        if cpu.current == Some(id) {
            // Its last run counts as its time, not as idle.
            cpu.charge_until(&self.scheduler, &mut self.domains, machine.now_ns());
            cpu.current = None;
            // Its GDT and LDT frames go back below: the CPU must not show them.
            machine.guest().load_gdt(&[None; FIRST_RESERVED_GDT_PAGE]);
            machine.guest().load_ldt(&crate::mm::ldt_view::LdtView::default());
            machine.guest().load_page_table_base(self.idle_l4);
        }
        let ran = self.domains.get(id).map_or(0, |domain| domain.vcpu.sched.total_run());
        let frames = self.frames.as_mut().expect("set at start");
        let (memory, allocator) = machine.memory_and_allocator();
        let destroyed = begin_destroy_domain(&mut self.domains, frames, memory, id, &mut |mfn| {
            // Every frame a domain held came from the allocator.
            allocator.free_frame(mfn);
        });
        if destroyed.is_some() {
            machine.log(
                LogLevel::Info,
                format_args!(
                    "domain {id} destroyed: ran {} us; dom0 told (VIRQ_DOM_EXC); its memory goes back over the next passes",
                    ran / 1000
                ),
            );
        }
        self.log_cpu_time(cpu, machine);
        Ok(())
    }

    /// Logs how long each domain left has run and how long the CPU idled,
    /// as of now: at the end of the run and after each domain's end (what
    /// `xl list` shows as Time).
    fn log_cpu_time<M: Machine>(&mut self, cpu: &mut Cpu, machine: &mut M) {
        cpu.charge_until(&self.scheduler, &mut self.domains, machine.now_ns());
        for domain in self.domains.iter() {
            machine.log(
                LogLevel::Info,
                format_args!(
                    "cpu time: d{} ({}) ran {} us",
                    domain.id(),
                    domain.name(),
                    domain.vcpu.sched.total_run() / 1000
                ),
            );
        }
        machine.log(LogLevel::Info, format_args!("cpu time: idle {} us", cpu.idle / 1000));
    }
}
