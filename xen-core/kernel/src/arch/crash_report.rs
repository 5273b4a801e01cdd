//! Crash reports: what the hypervisor prints when it faults or panics, before it
//! ends the run with the failure code.
#![deny(unsafe_code)] // safe code over the arch wrappers; it sits here as the x86 side of the seam

use crate::arch::console::emergency_writer;
use crate::arch::control_registers::{cr2, cr3};
use crate::arch::qemu_exit::exit;
use crate::arch::stacks::Stack;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};
use xen_core::debug_exit::DebugExit;
use xen_core::exception_vector::exception_name;
use xen_core::trap_frame::TrapFrame;

/// Set by the first crash: a fault while reporting must not report forever.
static CRASHING: AtomicBool = AtomicBool::new(false);

/// Ends the run if a report is already being printed.
fn enter_crash() {
    if CRASHING.swap(true, Ordering::SeqCst) {
        exit(DebugExit::Failure);
    }
}

/// Prints the report for a hypervisor exception and ends the run.
pub fn report_exception(frame: &TrapFrame) -> ! {
    enter_crash();
    let mut out = emergency_writer();
    let _ = writeln!(
        out,
        "(XEN) *** CRASH: exception {} ({}), error code {:#x}",
        frame.vector,
        exception_name(frame.vector),
        frame.error_code
    );
    let _ = writeln!(
        out,
        "(XEN)   rip {:#018x}  cs {:#06x}  rflags {:#010x}",
        frame.rip, frame.cs, frame.rflags
    );
    let _ = writeln!(out, "(XEN)   rsp {:#018x}  ss {:#06x}", frame.rsp, frame.ss);
    let _ = writeln!(out, "(XEN)   cr2 {:#018x}  cr3 {:#018x}", cr2(), cr3());
    // The frame lies on the stack the handler runs on: an IST stack for
    // #DF, NMI, #MC and #DB.
    let here = frame as *const TrapFrame as u64;
    let stack = Stack::containing(here).map_or("unknown", Stack::name);
    let _ = writeln!(out, "(XEN)   on the {stack} stack (frame at {here:#018x})");
    let registers = [
        ("rax", frame.rax),
        ("rbx", frame.rbx),
        ("rcx", frame.rcx),
        ("rdx", frame.rdx),
        ("rsi", frame.rsi),
        ("rdi", frame.rdi),
        ("rbp", frame.rbp),
        ("r8 ", frame.r8),
        ("r9 ", frame.r9),
        ("r10", frame.r10),
        ("r11", frame.r11),
        ("r12", frame.r12),
        ("r13", frame.r13),
        ("r14", frame.r14),
        ("r15", frame.r15),
    ];
    for row in registers.chunks(3) {
        let _ = write!(out, "(XEN)  ");
        for (name, value) in row {
            let _ = write!(out, " {name} {value:#018x}");
        }
        let _ = writeln!(out);
    }
    finish(out)
}

/// Prints the report for a panic and ends the run.
pub fn report_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    enter_crash();
    let mut out = emergency_writer();
    let _ = write!(out, "(XEN) *** PANIC");
    if let Some(location) = info.location() {
        let _ = write!(out, " at {}:{}", location.file(), location.line());
    }
    let _ = writeln!(out, ": {}", info.message());
    let _ = writeln!(out, "(XEN)   cr3 {:#018x}", cr3());
    finish(out)
}

fn finish(mut out: crate::arch::serial::Serial) -> ! {
    let _ = writeln!(out, "(XEN) *** hypervisor halted: failure");
    exit(DebugExit::Failure)
}
