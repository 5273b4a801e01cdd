//! Hypercalls: one table, indexed by number.
//!
//! Each handler gets the calling domain, the trap frame (for `iret`, which
//! replaces the guest's state) and the platform, plus the five argument
//! registers, and returns a [`Completion`] or an [`Errno`]. Numbers outside the
//! table, and ones we do not implement, return `-ENOSYS`.

mod callbacks;
mod console_io;
mod event_channel_op;
mod grant_table_op;
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

/// The table: runs hypercall `nr` with `args` (multicall entries, tests).
#[inline(always)]
pub fn dispatch<P: Platform>(context: &mut HypercallContext<'_, P>, nr: u64, args: [u64; 5]) -> Completion {
    dispatch_with(context, nr, |_| args)
}

/// The table, with the arguments read by `args` inside the chosen arm: a
/// small handler inlined there loads only the registers it uses, instead
/// of every call spilling all five first. A `match` on the number compiles
/// to a jump table, like an array of handlers, and lets the compiler inline
/// small handlers into it (an array of function pointers would not).
/// Inlined into the trap path itself: it runs on every hypercall.
#[inline(always)]
fn dispatch_with<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    nr: u64,
    args: impl Fn(&HypercallContext<'_, P>) -> [u64; 5],
) -> Completion {
    macro_rules! call {
        ($handler:path) => {{
            let args = args(context);
            $handler(context, args)
        }};
    }
    let result = match u32::try_from(nr) {
        Ok(number::SET_TRAP_TABLE) => call!(trap_table::set_trap_table),
        Ok(number::MMU_UPDATE) => call!(mmu::mmu_update),
        Ok(number::STACK_SWITCH) => call!(callbacks::stack_switch),
        Ok(number::SET_CALLBACKS) => call!(callbacks::set_callbacks),
        Ok(number::FPU_TASKSWITCH) => call!(segment_base::fpu_taskswitch),
        Ok(number::MULTICALL) => call!(multicall::multicall),
        Ok(number::XEN_VERSION) => call!(version::xen_version),
        Ok(number::CONSOLE_IO) => call!(console_io::console_io),
        Ok(number::VM_ASSIST) => call!(vm_assist::vm_assist),
        Ok(number::UPDATE_VA_MAPPING) => call!(mmu::update_va_mapping),
        Ok(number::IRET) => call!(iret::iret),
        Ok(number::SET_SEGMENT_BASE) => call!(segment_base::set_segment_base),
        Ok(number::SET_TIMER_OP) => call!(set_timer_op::set_timer_op),
        Ok(number::VCPU_OP) => call!(vcpu_op::vcpu_op),
        Ok(number::SCHED_OP) => call!(sched_op::sched_op),
        Ok(number::EVENT_CHANNEL_OP) => call!(event_channel_op::event_channel_op),
        Ok(number::CALLBACK_OP) => call!(callbacks::callback_op),
        Ok(number::MMUEXT_OP) => call!(mmu::mmuext_op),
        Ok(number::PHYSDEV_OP) => call!(physdev_op::physdev_op),
        Ok(number::GRANT_TABLE_OP) => call!(grant_table_op::grant_table_op),
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
mod event_tests;
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod grant_tests;
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
