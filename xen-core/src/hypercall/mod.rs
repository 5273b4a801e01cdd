//! Hypercalls: one table, indexed by number.
//!
//! Each handler gets the calling domain, the trap frame (for `iret`, which
//! replaces the guest's state) and the platform, plus the five argument
//! registers, and returns a [`Completion`] or an [`Errno`](xen_abi::errno::Errno).
//! The table is [`dispatch`]; numbers outside it,
//! and ones we do not implement, return `-ENOSYS`.

mod callback_op;
mod completion;
mod console_io;
mod dispatch;
mod event_channel_op;
mod fpu_taskswitch;
mod grant_table_op;
mod hypercall_context;
pub mod hypercall_page;
mod implicit_grant_unmaps;
mod iret;
mod memory_op;
mod mmu_update;
mod mmuext_op;
mod multicall;
mod physdev_op;
mod sched_op;
mod set_callbacks;
mod set_debugreg;
mod set_gdt;
mod set_segment_base;
mod set_timer_op;
mod set_trap_table;
mod stack_switch;
mod update_va_mapping;
mod vcpu_op;
mod vm_assist;
mod xen_version;

pub use completion::Completion;
pub use dispatch::dispatch;
pub use hypercall_context::HypercallContext;
pub use xen_version::INTERFACE_VERSION;

use crate::arch::Platform;
use crate::domain::domain_table::Others;
use crate::domain::pv_domain::PvDomain;
use crate::mm::FrameTable;
use crate::trap_frame::TrapFrame;
use dispatch::dispatch_with;

/// What the caller of [`handle_hypercall`] must do next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The guest's resume point (RIP, CS, SS, RFLAGS) may have changed:
    /// check that it is safe to return to.
    pub resume_changed: bool,
    /// Run the scheduler before returning to the guest.
    pub reschedule: bool,
}

/// Runs the hypercall the frame describes (RAX and the argument registers)
/// and writes the outcome back into the frame: the result in RAX, or for a
/// continuation the new arguments and RIP moved back over the `syscall`.
/// Inlined into the kernel's trap paths: a call here would cost a stack
/// frame and six saved registers on every hypercall.
#[inline(always)]
pub fn handle_hypercall<P: Platform>(
    domain: &mut PvDomain,
    others: Others<'_>,
    frames: &mut FrameTable<'static>,
    frame: &mut TrapFrame,
    platform: &mut P,
) -> Outcome {
    let nr = frame.hypercall().0;
    let (completion, reschedule) = {
        let mut context = HypercallContext {
            domain,
            others,
            frames,
            frame: &mut *frame,
            platform,
            in_multicall: false,
            reschedule: false,
        };
        let completion = dispatch_with(&mut context, nr, |context| context.frame.hypercall().1);
        (completion, context.reschedule)
    };
    let resume_changed = match completion {
        Completion::Value(value) => {
            frame.rax = value as u64;
            false
        }
        Completion::FrameReplaced => true,
        Completion::Continue(args) => {
            [frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8] = args;
            // `syscall` is two bytes; running it again resumes the work.
            frame.rip = frame.rip.wrapping_sub(2);
            true
        }
    };
    Outcome {
        resume_changed,
        reschedule,
    }
}

#[cfg(test)]
mod callback_tests;
#[cfg(test)]
mod event_tests;
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod grant_sequence_tests;
#[cfg(test)]
mod grant_tests;
#[cfg(test)]
mod grant_world;
#[cfg(test)]
mod mmu_cpu_tests;
#[cfg(test)]
mod mmu_tests;
#[cfg(test)]
mod settle_tests;
#[cfg(test)]
pub(crate) mod test_domains;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod top_of_memory_tests;
