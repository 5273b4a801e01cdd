//! The Rust side of every entry: decides who a trap belongs to.

use xen_core::trap_frame::TrapFrame;

unsafe extern "C" {
    /// The `rep movsb` of `copy_guest_bytes` that may fault on a guest address.
    static copy_guest_bytes_fault_point: u8;
    /// Where `copy_guest_bytes` resumes after such a fault.
    static copy_guest_bytes_fixup: u8;
}

/// Vector of a page fault.
const PAGE_FAULT: u64 = 14;
/// Vector of a non-maskable interrupt.
const NMI: u64 = 2;
/// Vector of a debug exception.
const DEBUG: u64 = 1;

/// Called by `trap_common` with the saved frame; returns to what the frame
/// then holds.
///
/// - A PIC vector: spurious, ignored.
/// - A #DB in ring 0: a guest's, deferred onto an entry; noted, and the
///   hypervisor goes on.
/// - From ring 3: the guest's business (hypercall, or an exception to bounce).
/// - A page fault at the guest-copy instruction: the guest passed a bad
///   pointer; resume at the fixup, which reports the bytes left.
/// - Anything else in ring 0 is a hypervisor bug: crash report.
#[unsafe(no_mangle)]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    // A masked PIC can still raise a spurious IRQ 7 or 15: nothing to do,
    // and nothing to acknowledge for a spurious one.
    if super::pic::PIC_VECTORS.contains(&frame.vector) {
        return;
    }
    // An NMI (from the host, or a watchdog) is not ours to act on, and it may
    // have interrupted code holding the console lock: return without a word.
    if frame.vector == NMI {
        return;
    }
    if frame.vector == u64::from(super::lapic::SPURIOUS_VECTOR) {
        return;
    }
    if frame.vector == DEBUG {
        let status = super::control_registers::take_debug_status();
        if !frame.from_guest() {
            crate::debug_trap::in_hypervisor(frame, status);
            return;
        }
    }
    if frame.from_guest() {
        crate::guest_trap::handle(frame);
        return;
    }
    // The timer while the hypervisor idles: the idle loop does the work.
    if frame.vector == u64::from(super::lapic::TIMER_VECTOR) {
        super::lapic::end_of_interrupt();
        return;
    }
    if frame.vector == PAGE_FAULT && frame.rip == &raw const copy_guest_bytes_fault_point as u64 {
        frame.rip = &raw const copy_guest_bytes_fixup as u64;
        return;
    }
    crate::crash_report::report_exception(frame);
}

/// Called by `syscall_entry` with a frame whose callee-saved slots are
/// undefined (see `TrapFrame`): a hypercall from a guest, nothing else.
///
/// Returns non-zero when the scheduler must run: the entry code then fills
/// in the callee-saved registers and calls `syscall_reschedule_dispatch`.
#[unsafe(no_mangle)]
extern "C" fn syscall_dispatch(frame: &mut TrapFrame) -> u64 {
    u64::from(crate::guest_trap::handle_syscall(frame))
}

/// Called by `syscall_entry` with a whole frame when a hypercall asked for
/// the scheduler.
#[unsafe(no_mangle)]
extern "C" fn syscall_reschedule_dispatch(frame: &mut TrapFrame) {
    crate::guest_trap::reschedule_after_syscall(frame);
}
