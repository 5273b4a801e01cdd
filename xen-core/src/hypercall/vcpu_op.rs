//! `vcpu_op(cmd, vcpu, arg)`: the timers of a vCPU, and whether it is up.
//!
//! Every domain has exactly vCPU 0, so other ids are `-ENOENT`; bringing
//! vCPUs up and down, runstate areas and moving `vcpu_info` are not offered.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::guest_copy::{read_from_guest, write_to_guest};
use crate::mm::{Mfn, PageType};
use crate::time::vcpu_timers::MIN_PERIOD_NS;
use xen_abi::errno::Errno;
use xen_abi::mmu::VMASST_TYPE_RUNSTATE_UPDATE_FLAG;
use xen_abi::page_table_entry::PAGE_SIZE;
use xen_abi::shared_info::VcpuInfo;
use xen_abi::vcpu::*;

/// Longest periodic tick Xen accepts (its `STIME_DELTA_MAX`, about 4.3 s).
const MAX_PERIOD_NS: u64 = (1 << 32) - 1;

/// `vcpu_op(cmd, vcpu, arg)`.
pub fn vcpu_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, vcpu, argument, ..] = args;
    if vcpu != 0 {
        return Err(Errno::ENOENT);
    }
    let now = context.platform.now_ns();
    let timers = &mut context.domain.vcpu.timers;
    match u32::try_from(command) {
        Ok(VCPUOP_IS_UP) => return Ok(Completion::Value(1)),
        // vCPU 0 is up for as long as the domain runs.
        Ok(VCPUOP_UP) => return Ok(Completion::Value(0)),
        // Taking down the last vCPU up powers the domain off, as Xen does.
        Ok(VCPUOP_DOWN) => {
            context.domain.flush_console(context.platform);
            context.domain.shut_down(xen_abi::sched::SHUTDOWN_POWEROFF);
            context.reschedule = true;
            return Ok(Completion::Value(0));
        }
        Ok(VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA) => {
            let area: VcpuRegisterRunstateMemoryArea = read_from_guest(context.platform.guest(), argument)?;
            let update_flag = context.domain.vm_assist(VMASST_TYPE_RUNSTATE_UPDATE_FLAG);
            let runstate = &mut context.domain.vcpu.runstate;
            runstate.set_area(area.addr);
            // The caller runs: its record is current, and written at once.
            runstate.publish(context.platform.guest(), update_flag);
            return Ok(Completion::Value(0));
        }
        Ok(VCPUOP_REGISTER_VCPU_INFO) => {
            let request: VcpuRegisterVcpuInfo = read_from_guest(context.platform.guest(), argument)?;
            register_vcpu_info(context, &request)?;
            return Ok(Completion::Value(0));
        }
        Ok(VCPUOP_GET_RUNSTATE_INFO) => {
            let info = context.domain.vcpu.runstate.at(now);
            write_to_guest(context.platform.guest(), argument, &info)?;
            return Ok(Completion::Value(0));
        }
        Ok(VCPUOP_SET_PERIODIC_TIMER) => {
            let set: VcpuSetPeriodicTimer = read_from_guest(context.platform.guest(), argument)?;
            if !(MIN_PERIOD_NS..=MAX_PERIOD_NS).contains(&set.period_ns) {
                return Err(Errno::EINVAL);
            }
            context.domain.vcpu.timers.set_period(set.period_ns, now);
        }
        Ok(VCPUOP_STOP_PERIODIC_TIMER) => timers.set_period(0, now),
        Ok(VCPUOP_SET_SINGLESHOT_TIMER) => {
            let set: VcpuSetSingleshotTimer = read_from_guest(context.platform.guest(), argument)?;
            let future = SingleshotTimerFlags::from_bits_retain(set.flags).contains(SingleshotTimerFlags::FUTURE);
            if future && set.timeout_abs_ns < now {
                return Err(Errno::ETIME);
            }
            context.domain.vcpu.timers.singleshot = Some(set.timeout_abs_ns);
        }
        Ok(VCPUOP_STOP_SINGLESHOT_TIMER) => timers.singleshot = None,
        _ => return Err(Errno::ENOSYS),
    }
    context.reschedule = true;
    Ok(Completion::Value(0))
}

/// `VCPUOP_register_vcpu_info`: moves the vCPU's `vcpu_info` into a page of
/// the guest's, as Xen does: once only (-EINVAL after), at an 8-byte
/// aligned offset with room for it (-ENXIO otherwise), in a frame the
/// guest owns that can be typed writable (-EINVAL otherwise), which stays
/// referenced until the domain dies. What the old place held comes along,
/// and every event is scanned again at the next upcall.
fn register_vcpu_info<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    request: &VcpuRegisterVcpuInfo,
) -> Result<(), Errno> {
    let size = size_of::<VcpuInfo>() as u64;
    let offset = u64::from(request.offset);
    if offset > PAGE_SIZE - size || !offset.is_multiple_of(8) {
        return Err(Errno::ENXIO);
    }
    if context.domain.vcpu_info_moved() {
        return Err(Errno::EINVAL);
    }
    let memory = context.platform.memory();
    let frame = Mfn(request.mfn);
    let held = context
        .frames
        .get_page_and_type(memory, frame, context.domain.id(), PageType::Writable)
        .map_err(|_| Errno::EINVAL)?;
    context.domain.move_vcpu_info(memory, held, frame.address() + offset);
    let bits = context.domain.event_bits();
    bits.select_all(memory, 0);
    bits.mark_upcall_pending(memory, 0);
    Ok(())
}
