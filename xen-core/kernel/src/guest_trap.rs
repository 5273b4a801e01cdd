//! Traps from guests: hypercalls, exceptions for the guest's own handlers,
//! privileged instructions to emulate, and the end of a domain.

use crate::arch::control_registers::cr2;
use crate::arch::qemu_exit::exit;
use crate::arch::{fpu, segment_base};
use crate::console;
use crate::platform::KernelPlatform;
use spin::Mutex;
use xen_abi::sched::{SHUTDOWN_CRASH, SHUTDOWN_POWEROFF};
use xen_core::debug_exit::DebugExit;
use xen_core::domain::bounce::{bounce_exception, has_error_code};
use xen_core::domain::privileged_op::{Emulation, emulate_privileged};
use xen_core::domain::pv_domain::{DomainState, PvDomain};
use xen_core::hypercall::handle_hypercall;
use xen_core::mm::FrameTable;
use xen_core::trap_frame::{HYPERCALL_GATE_VECTOR, SYSCALL32_VECTOR, TrapFrame};

/// What runs, behind one lock that each trap takes once: the domain (one
/// domain, one vCPU, for now) and the frame table its hypercalls change.
struct Running {
    domain: PvDomain,
    frames: FrameTable<'static>,
}

static RUNNING: Mutex<Option<Running>> = Mutex::new(None);

/// Makes `domain` the one that runs, over the frame table `frames`; called
/// once, before entering it.
pub fn install(domain: PvDomain, frames: FrameTable<'static>) {
    *RUNNING.lock() = Some(Running { domain, frames });
}

/// Vectors with their own handling.
const DEVICE_NOT_AVAILABLE: u8 = 7;
const GENERAL_PROTECTION: u8 = 13;
const PAGE_FAULT: u8 = 14;

/// Handles a `syscall` from ring 3: a hypercall, the fast path.
pub fn handle_syscall(frame: &mut TrapFrame) {
    let mut slot = RUNNING.lock();
    let Some(Running { domain, frames }) = slot.as_mut() else {
        crate::crash_report::report_exception(frame);
    };
    let resume_changed = handle_hypercall(domain, frames, frame, &mut KernelPlatform::new());
    finish(domain, frame, resume_changed);
}

/// Handles any other trap from ring 3 (exceptions, the `int 0x82` gate);
/// returns to the guest unless its domain ended.
pub fn handle(frame: &mut TrapFrame) {
    let mut slot = RUNNING.lock();
    let Some(Running { domain, frames }) = slot.as_mut() else {
        // Ring 3 with no domain installed: nothing of ours runs there.
        crate::crash_report::report_exception(frame);
    };
    let mut platform = KernelPlatform::new();
    if frame.vector == SYSCALL32_VECTOR {
        error!(
            "d{} ({}): syscall from 32-bit code at rip {:#x}",
            domain.id, domain.name, frame.rip
        );
        domain.crash("32-bit syscall, which 64-bit PV guests cannot use");
        domain_ended(domain, frame);
    }
    // `syscall` frames go to handle_syscall; here the gate is the hypercall.
    let resume_changed = if frame.vector == HYPERCALL_GATE_VECTOR {
        handle_hypercall(domain, frames, frame, &mut platform)
    } else {
        handle_exception(domain, frame, &mut platform, frame.vector as u8);
        true
    };
    finish(domain, frame, resume_changed);
}

/// The way back to the guest: refuse an unsafe resume point, end a domain
/// that stopped, load registers the guest changed.
#[inline(always)]
fn finish(domain: &mut PvDomain, frame: &mut TrapFrame, resume_changed: bool) {
    // An unchanged resume point is the hardware's own frame: right selectors
    // and flags, but even its RIP may be non-canonical (see rip_is_canonical).
    let safe = if resume_changed {
        frame.is_safe_guest_return()
    } else {
        frame.rip_is_canonical()
    };
    if !safe || !domain.is_running() {
        finish_unusual(domain, frame, safe);
    }
    if let Some(state) = domain.vcpu.take_loadable_state() {
        load_registers(state);
    }
}

/// The rare ends of a trap: an unsafe resume point, or a domain that stopped.
#[inline(never)]
fn finish_unusual(domain: &mut PvDomain, frame: &mut TrapFrame, safe: bool) {
    if !safe && domain.is_running() {
        error!(
            "d{}: return to rip {:#x} cs {:#x} refused",
            domain.id, frame.rip, frame.cs
        );
        domain.crash("unsafe return frame");
    }
    if !domain.is_running() {
        domain_ended(domain, frame);
    }
}

/// Loads registers the guest changed since the last return.
#[inline(never)]
fn load_registers(state: xen_core::domain::vcpu::LoadableState) {
    segment_base::load(state.fs_base, state.gs_base_kernel);
    fpu::set_task_switched(state.fpu_task_switched);
}

/// An exception raised by guest code.
fn handle_exception(domain: &mut PvDomain, frame: &mut TrapFrame, platform: &mut KernelPlatform, vector: u8) {
    let result = match vector {
        // The guest's virtual CR0.TS was set: like Xen, clear it and let the
        // guest's handler decide (it usually restores FPU state).
        DEVICE_NOT_AVAILABLE => {
            domain.vcpu.update_loadable(|state| state.fpu_task_switched = false);
            bounce_exception(domain, frame, platform, vector, None, None)
        }
        GENERAL_PROTECTION if frame.error_code == 0 => match emulate_privileged(domain, frame, platform) {
            Emulation::Done => Ok(()),
            Emulation::GeneralProtection => bounce_exception(domain, frame, platform, vector, Some(0), None),
        },
        // `int n` through one of our DPL-0 gates: allowed if the guest's own
        // trap table says so (DPL >= 1 from guest kernel mode).
        GENERAL_PROTECTION if frame.error_code & 7 == 2 => {
            let software = (frame.error_code >> 3) as u8;
            let handler = domain.vcpu.traps[usize::from(software)];
            let lowest = if domain.vcpu.kernel_mode { 1 } else { 3 };
            if handler.address != 0 && handler.dpl >= lowest {
                frame.rip = frame.rip.wrapping_add(2);
                bounce_exception(domain, frame, platform, software, None, None)
            } else {
                bounce_exception(domain, frame, platform, vector, Some(frame.error_code), None)
            }
        }
        PAGE_FAULT => bounce_exception(domain, frame, platform, vector, Some(frame.error_code), Some(cr2())),
        _ => {
            let code = has_error_code(vector).then_some(frame.error_code);
            bounce_exception(domain, frame, platform, vector, code, None)
        }
    };
    if let Err(error) = result {
        error!(
            "d{} ({}): exception {} ({}) at rip {:#x}: {}",
            domain.id,
            domain.name,
            vector,
            crate::crash_report::exception_name(u64::from(vector)),
            frame.rip,
            error
        );
        domain.crash("unhandled exception");
    }
}

/// A domain stopped. With one domain, its end is the end of the run: dom0
/// powering off is success, a crash gets its own exit code.
fn domain_ended(domain: &PvDomain, frame: &TrapFrame) -> ! {
    let (id, name) = (domain.id, &domain.name);
    let verdict = match domain.state {
        DomainState::Shutdown(SHUTDOWN_POWEROFF) => {
            info!("domain {id} ({name}) powered off");
            DebugExit::Success
        }
        DomainState::Shutdown(SHUTDOWN_CRASH) => {
            error!(
                "domain {id} ({name}) shut down with reason crash at rip {:#x}",
                frame.rip
            );
            DebugExit::GuestCrashed
        }
        DomainState::Shutdown(reason) => {
            warn!("domain {id} ({name}) shut down with reason {reason}; nothing restarts it");
            DebugExit::Success
        }
        DomainState::Crashed | DomainState::Running => {
            let reason = domain.crash_reason.unwrap_or("unknown");
            error!("domain {id} ({name}) crashed: {reason}");
            DebugExit::GuestCrashed
        }
    };
    match verdict {
        DebugExit::Success => console::always(format_args!("*** hypervisor halted: success")),
        _ => console::always(format_args!("*** hypervisor halted: dom0 crashed")),
    }
    exit(verdict)
}
