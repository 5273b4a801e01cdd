//! Hypercalls: one table, indexed by number.
//!
//! Each handler gets the calling domain, the trap frame (for `iret`, which
//! replaces the guest's state) and the platform, plus the five argument
//! registers, and returns a [`Completion`] or an [`Errno`]. Numbers outside the
//! table, and ones we do not implement, return `-ENOSYS`.

mod callbacks;
mod console_io;
mod event_channel_op;
pub mod hypercall_page;
mod iret;
mod mmu;
mod multicall;
mod physdev_op;
mod sched_op;
mod segment_base;
mod set_timer_op;
mod trap_table;
mod vcpu_op;
mod version;
mod vm_assist;

use crate::arch::Platform;
use crate::domain::domain_table::Others;
use crate::domain::pv_domain::PvDomain;
use crate::mm::FrameTable;
use crate::trap_frame::TrapFrame;
use xen_abi::errno::Errno;
use xen_abi::hypercall as number;

/// How a hypercall finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// Return this value in RAX.
    Value(i64),
    /// The frame already holds the state to resume (`iret`): leave RAX alone.
    FrameReplaced,
    /// Preempted: resume by re-executing the hypercall with these arguments
    /// (the caller rewinds RIP over the `syscall`, or, in a multicall, stores
    /// them in the entry).
    Continue([u64; 5]),
}

/// What a handler works with.
pub struct HypercallContext<'a, P: Platform> {
    /// The calling domain.
    pub domain: &'a mut PvDomain,
    /// Every other domain (event channels reach them).
    pub others: Others<'a>,
    /// The PV MMU's state of every machine frame.
    pub frames: &'a mut FrameTable<'static>,
    /// The caller's registers.
    pub frame: &'a mut TrapFrame,
    /// The machine.
    pub platform: &'a mut P,
    /// Whether this call is an entry of a multicall (some calls refuse).
    pub in_multicall: bool,
    /// Set by a call after which the scheduler must choose again: the
    /// caller blocked or yielded, or another vCPU woke.
    pub reschedule: bool,
}

/// The table: runs hypercall `nr` with `args`. A `match` on the number
/// compiles to a jump table, like an array of handlers, and lets the compiler
/// inline small handlers into it (an array of function pointers would not).
/// Inlined into the trap path itself: it runs on every hypercall.
#[inline(always)]
pub fn dispatch<P: Platform>(context: &mut HypercallContext<'_, P>, nr: u64, args: [u64; 5]) -> Completion {
    let result = match u32::try_from(nr) {
        Ok(number::SET_TRAP_TABLE) => trap_table::set_trap_table(context, args),
        Ok(number::MMU_UPDATE) => mmu::mmu_update(context, args),
        Ok(number::STACK_SWITCH) => callbacks::stack_switch(context, args),
        Ok(number::SET_CALLBACKS) => callbacks::set_callbacks(context, args),
        Ok(number::FPU_TASKSWITCH) => segment_base::fpu_taskswitch(context, args),
        Ok(number::MULTICALL) => multicall::multicall(context, args),
        Ok(number::XEN_VERSION) => version::xen_version(context, args),
        Ok(number::CONSOLE_IO) => console_io::console_io(context, args),
        Ok(number::VM_ASSIST) => vm_assist::vm_assist(context, args),
        Ok(number::UPDATE_VA_MAPPING) => mmu::update_va_mapping(context, args),
        Ok(number::IRET) => iret::iret(context, args),
        Ok(number::SET_SEGMENT_BASE) => segment_base::set_segment_base(context, args),
        Ok(number::SET_TIMER_OP) => set_timer_op::set_timer_op(context, args),
        Ok(number::VCPU_OP) => vcpu_op::vcpu_op(context, args),
        Ok(number::SCHED_OP) => sched_op::sched_op(context, args),
        Ok(number::EVENT_CHANNEL_OP) => event_channel_op::event_channel_op(context, args),
        Ok(number::CALLBACK_OP) => callbacks::callback_op(context, args),
        Ok(number::MMUEXT_OP) => mmu::mmuext_op(context, args),
        Ok(number::PHYSDEV_OP) => physdev_op::physdev_op(context, args),
        _ => Err(Errno::ENOSYS),
    };
    result.unwrap_or_else(|errno| Completion::Value(errno.as_return()))
}

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
pub fn handle_hypercall<P: Platform>(
    domain: &mut PvDomain,
    others: Others<'_>,
    frames: &mut FrameTable<'static>,
    frame: &mut TrapFrame,
    platform: &mut P,
) -> Outcome {
    let (nr, args) = frame.hypercall();
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
        (dispatch(&mut context, nr, args), context.reschedule)
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
mod event_tests;
#[cfg(test)]
mod mmu_tests;
#[cfg(test)]
mod tests;
