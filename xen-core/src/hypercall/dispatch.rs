//! The hypercall table: a hypercall's number chooses its handler.

use super::callback_op::callback_op;
use super::completion::Completion;
use super::console_io::console_io;
use super::event_channel_op::event_channel_op;
use super::fpu_taskswitch::fpu_taskswitch;
use super::grant_table_op::grant_table_op;
use super::hypercall_context::HypercallContext;
use super::iret::iret;
use super::memory_op::memory_op;
use super::mmu_update::mmu_update;
use super::mmuext_op::mmuext_op;
use super::multicall::multicall;
use super::physdev_op::physdev_op;
use super::sched_op::sched_op;
use super::set_callbacks::set_callbacks;
use super::set_debugreg::{get_debugreg, set_debugreg};
use super::set_gdt::{set_gdt, update_descriptor};
use super::set_segment_base::set_segment_base;
use super::set_timer_op::set_timer_op;
use super::set_trap_table::set_trap_table;
use super::stack_switch::stack_switch;
use super::update_va_mapping::update_va_mapping;
use super::vcpu_op::vcpu_op;
use super::vm_assist::vm_assist;
use super::xen_version::xen_version;
use crate::arch::Platform;
use xen_abi::errno::Errno;
use xen_abi::hypercall as number;

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
pub(super) fn dispatch_with<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    nr: u64,
    args: impl Fn(&HypercallContext<'_, P>) -> [u64; 5],
) -> Completion {
    macro_rules! call {
        ($handler:expr) => {{
            let args = args(context);
            $handler(context, args)
        }};
    }
    let result = match u32::try_from(nr) {
        Ok(number::SET_TRAP_TABLE) => call!(set_trap_table),
        Ok(number::MMU_UPDATE) => call!(mmu_update),
        Ok(number::STACK_SWITCH) => call!(stack_switch),
        Ok(number::SET_CALLBACKS) => call!(set_callbacks),
        Ok(number::FPU_TASKSWITCH) => call!(fpu_taskswitch),
        Ok(number::SET_GDT) => call!(set_gdt),
        Ok(number::SET_DEBUGREG) => call!(set_debugreg),
        Ok(number::GET_DEBUGREG) => call!(get_debugreg),
        Ok(number::UPDATE_DESCRIPTOR) => call!(update_descriptor),
        // The batch runs its entries through this same table, given to it
        // rather than imported: the table calls the handlers, not the
        // reverse.
        Ok(number::MULTICALL) => call!(|context, args| multicall(context, args, dispatch::<P>)),
        Ok(number::XEN_VERSION) => call!(xen_version),
        Ok(number::CONSOLE_IO) => call!(console_io),
        Ok(number::VM_ASSIST) => call!(vm_assist),
        Ok(number::UPDATE_VA_MAPPING) => call!(update_va_mapping),
        Ok(number::IRET) => call!(iret),
        Ok(number::SET_SEGMENT_BASE) => call!(set_segment_base),
        Ok(number::SET_TIMER_OP) => call!(set_timer_op),
        Ok(number::VCPU_OP) => call!(vcpu_op),
        Ok(number::SCHED_OP) => call!(sched_op),
        Ok(number::EVENT_CHANNEL_OP) => call!(event_channel_op),
        Ok(number::CALLBACK_OP) => call!(callback_op),
        Ok(number::MMUEXT_OP) => call!(mmuext_op),
        Ok(number::PHYSDEV_OP) => call!(physdev_op),
        Ok(number::GRANT_TABLE_OP) => call!(grant_table_op),
        Ok(number::MEMORY_OP) => call!(memory_op),
        _ => Err(Errno::ENOSYS),
    };
    result.unwrap_or_else(|errno| Completion::Value(errno.as_return()))
}
