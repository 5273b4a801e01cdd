//! An exception raised by guest code: bounced to the guest's own handler,
//! or emulated when it is a privileged instruction the guest may use.

use crate::arch::{GuestMemory, Machine};
use crate::cpuid::CpuidContext;
use crate::domain::bounce::{PF_USER, bounce_exception, has_error_code};
use crate::domain::forced_emulation::{ForcedEmulation, emulate_forced_invalid_op};
use crate::domain::privileged_op::{Emulation, emulate_privileged};
use crate::domain::pv_domain::PvDomain;
use crate::domain::writable_page_tables::emulate_page_table_write;
use crate::exception_vector::{
    DEBUG, DEVICE_NOT_AVAILABLE, GENERAL_PROTECTION, INVALID_OPCODE, PAGE_FAULT, exception_name,
};
use crate::hypercall::INTERFACE_VERSION;
use crate::log_level::LogLevel;
use crate::mm::FrameTable;
use crate::mm::layout::{LDT_WINDOW, LDT_WINDOW_SIZE};
use crate::trap_frame::TrapFrame;

/// Handles exception `vector` raised by `domain`'s code; crashes the domain
/// when it cannot be delivered.
pub(super) fn handle_exception<M: Machine>(
    domain: &mut PvDomain,
    frame: &mut TrapFrame,
    machine: &mut M,
    vector: u8,
    frames: &mut FrameTable<'_>,
) {
    let result = match vector {
        INVALID_OPCODE => {
            let context = CpuidContext {
                version: INTERFACE_VERSION,
                tsc_scale: machine.clock().1,
                max_mfn: frames.frame_count().saturating_sub(1),
                hardware_domain_kernel: domain.privilege().is_some() && domain.vcpu.kernel_mode(),
            };
            match emulate_forced_invalid_op(frame, machine, &context) {
                ForcedEmulation::Done => Ok(()),
                ForcedEmulation::InvalidOpcode => bounce_exception(domain, frame, machine, vector, None, None),
                ForcedEmulation::PageFault(address) => {
                    // Error code 0: a read, not present as far as the guest
                    // knows; the bounce adds the user bit from user mode.
                    let code = if domain.vcpu.kernel_mode() { 0 } else { PF_USER };
                    bounce_exception(domain, frame, machine, PAGE_FAULT, Some(code), Some(address))
                }
            }
        }
        // The guest's DR6 gathers the causes; its handler reads and clears
        // it with get_debugreg/set_debugreg, as on Xen.
        DEBUG => {
            let status = machine.debug_status();
            domain.vcpu.note_debug_status(status);
            bounce_exception(domain, frame, machine, vector, None, None)
        }
        // The guest's virtual CR0.TS was set: like Xen, clear it and let the
        // guest's handler decide (it usually restores FPU state).
        DEVICE_NOT_AVAILABLE => {
            domain.vcpu.update_loadable(|state| state.fpu_task_switched = false);
            bounce_exception(domain, frame, machine, vector, None, None)
        }
        GENERAL_PROTECTION if frame.error_code == 0 => match emulate_privileged(domain, frame, machine, frames) {
            Emulation::Done => Ok(()),
            Emulation::GeneralProtection => bounce_exception(domain, frame, machine, vector, Some(0), None),
            Emulation::InvalidOpcode => bounce_exception(domain, frame, machine, INVALID_OPCODE, None, None),
        },
        // `int n` through one of our DPL-0 gates: allowed if the guest's own
        // trap table says so (DPL >= 1 from guest kernel mode, 3 from user).
        GENERAL_PROTECTION if frame.error_code & 7 == 2 => {
            let software = (frame.error_code >> 3) as u8;
            let handler = domain.vcpu.trap(software);
            let lowest = if domain.vcpu.kernel_mode() { 1 } else { 3 };
            // Xen's `int 0x80` fast path delivers a user program's system
            // call to any handler registered for it, whatever its DPL.
            let user_int80 = software == 0x80 && !domain.vcpu.kernel_mode();
            if handler.address != 0 && (handler.dpl >= lowest || user_int80) {
                frame.rip = frame.rip.wrapping_add(2);
                bounce_exception(domain, frame, machine, software, None, None)
            } else {
                bounce_exception(domain, frame, machine, vector, Some(frame.error_code), None)
            }
        }
        PAGE_FAULT if (LDT_WINDOW..LDT_WINDOW + LDT_WINDOW_SIZE).contains(&machine.fault_address()) => {
            // The CPU read a page of the guest's LDT it was not shown yet.
            let page = ((machine.fault_address() - LDT_WINDOW) / 4096) as usize;
            let base = domain.vcpu.kernel_base.as_ref().map(|base| base.mfn());
            let owner = domain.id();
            let memory = machine.memory();
            let faulted = match base {
                Some(base) => domain.vcpu.ldt.fault_in(frames, memory, owner, base, page),
                None => Err(0),
            };
            match faulted {
                Ok(()) => {
                    machine.guest().load_ldt(&domain.vcpu.ldt.view());
                    Ok(())
                }
                // As on Xen: the guest's #PF at that address of its LDT,
                // or a #GP where that address is not canonical.
                Err(linear) if crate::mm::layout::is_canonical(linear) => {
                    bounce_exception(domain, frame, machine, vector, Some(frame.error_code), Some(linear))
                }
                Err(_) => bounce_exception(domain, frame, machine, GENERAL_PROTECTION, Some(0), None),
            }
        }
        PAGE_FAULT => {
            let address = machine.fault_address();
            if emulate_page_table_write(domain, frame, machine, frames, address, frame.error_code) {
                Ok(())
            } else {
                bounce_exception(domain, frame, machine, vector, Some(frame.error_code), Some(address))
            }
        }
        _ => {
            let code = has_error_code(vector).then_some(frame.error_code);
            bounce_exception(domain, frame, machine, vector, code, None)
        }
    };
    if let Err(error) = result {
        machine.log(
            LogLevel::Error,
            format_args!(
                "d{} ({}): exception {} ({}) at rip {:#x}: {}",
                domain.id(),
                domain.name(),
                vector,
                exception_name(u64::from(vector)),
                frame.rip,
                error
            ),
        );
        domain.crash("unhandled exception");
    }
}
