//! The hypervisor at run time: every domain, the frame table and the
//! scheduler, driven by traps from guests.
//!
//! The kernel's entry code hands each trap from ring 3 to one of the entry
//! points here ([`Hypervisor::handle_syscall`], [`Hypervisor::handle_trap`])
//! with the CPU's own state ([`Cpu`]) and the machine ([`Machine`]); what
//! comes back is either a frame to return to or the end of the run
//! ([`RunEnd`]). Everything between, the hypercall, the exception bounce,
//! the scheduling pass, a domain's end, runs here, so host tests drive the
//! real loop over a fake machine.

mod boot_domains;
mod domain_end;
mod guest_entry;
mod guest_exception;
mod memory_return;
mod schedule_pass;

#[cfg(test)]
mod descriptor_tests;
#[cfg(test)]
mod page_table_write_tests;
#[cfg(test)]
mod segment_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod user_mode_tests;
#[cfg(test)]
mod vcpu_info_tests;
#[cfg(test)]
mod vcpu_op_tests;

pub use boot_domains::{BootDomainCause, BootDomainError, BootMachine};

use crate::arch::Machine;
use crate::debug_exit::DebugExit;
use crate::domain::domain_table::DomainTable;
use crate::mm::{FrameTable, Mfn};
use crate::sched::{Cpu, CreditScheduler};
use crate::trap_frame::TrapFrame;

/// How a run ended: the verdict for the exit device and the words the
/// console's last line gives it (`*** hypervisor halted: <reason>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunEnd {
    /// The exit code.
    pub verdict: DebugExit,
    /// Why, for the last console line.
    pub reason: &'static str,
}

/// Everything the traps work on. Each CPU's own state ([`Cpu`]: what it
/// runs, since when) is passed in beside it, so that a second CPU is a
/// second `Cpu`, not a rewrite.
pub struct Hypervisor {
    /// Every domain.
    domains: DomainTable,
    /// The PV MMU's state of every machine frame (set at start).
    frames: Option<FrameTable<'static>>,
    /// Shares the CPUs between vCPUs.
    scheduler: CreditScheduler,
    /// The hypervisor's own L4, loaded while no domain runs.
    idle_l4: Mfn,
}

impl Default for Hypervisor {
    fn default() -> Self {
        Hypervisor::new()
    }
}

impl Hypervisor {
    /// No domains yet, no frame table: a `static`'s initial value.
    pub const fn new() -> Self {
        Hypervisor {
            domains: DomainTable::new(),
            frames: None,
            scheduler: CreditScheduler::new(1),
            idle_l4: Mfn(0),
        }
    }

    /// Every domain, to add one in place ([`DomainTable::vacant`]).
    pub fn domains_mut(&mut self) -> &mut DomainTable {
        &mut self.domains
    }

    /// Every domain.
    pub fn domains(&self) -> &DomainTable {
        &self.domains
    }

    /// The frame table, once scheduling started.
    pub fn frames(&self) -> Option<&FrameTable<'static>> {
        self.frames.as_ref()
    }

    /// Starts scheduling over `frames`, with `idle_l4` (the hypervisor's own
    /// tables) loaded whenever no domain runs: `frame` then holds the
    /// registers of the first vCPU to run.
    pub fn start<M: Machine>(
        &mut self,
        cpu: &mut Cpu,
        frames: FrameTable<'static>,
        idle_l4: Mfn,
        frame: &mut TrapFrame,
        machine: &mut M,
    ) -> Result<(), RunEnd> {
        self.frames = Some(frames);
        self.idle_l4 = idle_l4;
        let now = machine.now_ns();
        cpu.since = now;
        // Periodic ticks count from when scheduling starts, not from boot:
        // building the domains took longer than a tick.
        for domain in self.domains.iter_mut() {
            let period = domain.vcpu.timers.period;
            domain.vcpu.timers.set_period(period, now);
        }
        self.leave(cpu, frame, machine, true)
    }
}
