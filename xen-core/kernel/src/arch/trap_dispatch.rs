//! The Rust side of every entry: decides who a trap belongs to, and hands
//! a guest's to the portable hypervisor (`xen_core::hypervisor`).

use super::kernel_machine::KernelMachine;
use super::qemu_exit::exit;
use spin::Mutex;
use xen_core::exception_vector::{DEBUG, NMI, PAGE_FAULT};
use xen_core::hypervisor::{Hypervisor, RunEnd};
use xen_core::mm::{FrameTable, Mfn};
use xen_core::sched::Cpu;
use xen_core::trap_frame::TrapFrame;

/// The hypervisor's state and the boot CPU's, behind one lock that each
/// trap takes once. The CPU's state is its own value, passed to every entry
/// point: a second CPU gets a second one.
struct Running {
    hypervisor: Hypervisor,
    cpu: Cpu,
}

static RUNNING: Mutex<Running> = Mutex::new(Running {
    hypervisor: Hypervisor::new(),
    cpu: Cpu {
        current: None,
        since: 0,
        idle: 0,
    },
});

/// Runs `f` on the hypervisor: the boot adds its domains this way before
/// scheduling starts.
pub fn with_hypervisor<R>(f: impl FnOnce(&mut Hypervisor) -> R) -> R {
    f(&mut RUNNING.lock().hypervisor)
}

/// Starts scheduling over `frames`, with `idle_l4` (the hypervisor's own
/// tables) loaded whenever no domain runs; never returns.
pub fn start(frames: FrameTable<'static>, idle_l4: Mfn) -> ! {
    let mut frame = TrapFrame::default();
    {
        let mut running = RUNNING.lock();
        let Running { hypervisor, cpu } = &mut *running;
        if let Err(end) = hypervisor.start(cpu, frames, idle_l4, &mut frame, &mut KernelMachine::new()) {
            drop(running);
            end_run(end);
        }
    }
    super::enter_guest::enter_guest(frame)
}

/// The last line of a run and its exit code.
#[cold]
fn end_run(end: RunEnd) -> ! {
    crate::arch::console::always(format_args!("*** hypervisor halted: {}", end.reason));
    exit(end.verdict)
}

unsafe extern "C" {
    /// The `rep movsb` of `copy_guest_bytes` that may fault on a guest address.
    static copy_guest_bytes_fault_point: u8;
    /// Where `copy_guest_bytes` resumes after such a fault.
    static copy_guest_bytes_fixup: u8;
    /// Its `rep movsq`, which may fault likewise.
    static copy_guest_quads_fault_point: u8;
    /// Where it goes on, byte by byte, after that.
    static copy_guest_quads_fixup: u8;
}

/// Called by `trap_common` with the saved frame; returns to what the frame
/// then holds.
///
/// - A PIC vector: spurious, ignored.
/// - A #DB in ring 0: a guest's, deferred onto an entry; noted, and the
///   hypervisor goes on.
/// - From ring 3: the guest's business (hypercall, or an exception to bounce).
/// - A page fault at a guest-copy instruction: the guest passed a bad
///   pointer; resume at its fixup (the byte copy reports the bytes left).
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
    if frame.vector == u64::from(NMI) {
        return;
    }
    if frame.vector == u64::from(super::lapic::SPURIOUS_VECTOR) {
        return;
    }
    if frame.vector == u64::from(DEBUG) {
        let status = super::control_registers::take_debug_status();
        if !frame.from_guest() {
            crate::arch::debug_trap::in_hypervisor(frame, status);
            return;
        }
    }
    if frame.from_guest() {
        let mut running = RUNNING.lock();
        let Running { hypervisor, cpu } = &mut *running;
        if let Err(end) = hypervisor.handle_trap(cpu, frame, &mut KernelMachine::new()) {
            drop(running);
            end_run(end);
        }
        return;
    }
    // The timer while the hypervisor idles: the idle loop does the work.
    if frame.vector == u64::from(super::lapic::TIMER_VECTOR) {
        super::lapic::end_of_interrupt();
        return;
    }
    if frame.vector == u64::from(PAGE_FAULT) && frame.rip == &raw const copy_guest_bytes_fault_point as u64 {
        frame.rip = &raw const copy_guest_bytes_fixup as u64;
        return;
    }
    if frame.vector == u64::from(PAGE_FAULT) && frame.rip == &raw const copy_guest_quads_fault_point as u64 {
        frame.rip = &raw const copy_guest_quads_fixup as u64;
        return;
    }
    crate::arch::crash_report::report_exception(frame);
}

/// Called by `syscall_entry` with a frame whose callee-saved slots are
/// undefined (see `TrapFrame`): a hypercall from a guest, nothing else.
///
/// Returns non-zero when the scheduler must run: the entry code then fills
/// in the callee-saved registers and calls `syscall_reschedule_dispatch`.
#[unsafe(no_mangle)]
extern "C" fn syscall_dispatch(frame: &mut TrapFrame) -> u64 {
    let mut running = RUNNING.lock();
    let Running { hypervisor, cpu } = &mut *running;
    u64::from(hypervisor.handle_syscall(cpu, frame, &mut KernelMachine::new()))
}

/// Called by `syscall_entry` with a whole frame when a hypercall asked for
/// the scheduler.
#[unsafe(no_mangle)]
extern "C" fn syscall_reschedule_dispatch(frame: &mut TrapFrame) {
    let mut running = RUNNING.lock();
    let Running { hypervisor, cpu } = &mut *running;
    if let Err(end) = hypervisor.reschedule_after_syscall(cpu, frame, &mut KernelMachine::new()) {
        drop(running);
        end_run(end);
    }
}
