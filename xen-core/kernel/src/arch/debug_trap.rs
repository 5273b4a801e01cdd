//! A #DB taken in the hypervisor's own context.
//!
//! The hypervisor sets no breakpoints and never single-steps itself, so such
//! a #DB comes from a guest: a single-step or data breakpoint that the CPU
//! held back past the guest's `mov ss` or `pop ss` and delivers on the
//! first instruction of the entry that followed (`syscall`, `int 0x82`, an
//! exception), in ring 0. It arrives on the #DB IST stack, since after
//! `syscall` RSP is still the guest's. As on Xen, it is noted and the
//! hypervisor goes on: TF is cleared if the interrupted context had it, and
//! a guest that is single-stepping keeps its TF in its own saved RFLAGS, so
//! its next step traps once it runs again.
#![deny(unsafe_code)] // safe code over the arch wrappers; it sits here as the x86 side of the seam

use crate::arch::stacks::Stack;
use core::sync::atomic::{AtomicU64, Ordering};
use xen_core::rflags::TF;
use xen_core::trap_frame::TrapFrame;

/// How many have been taken.
static TAKEN: AtomicU64 = AtomicU64::new(0);

/// Notes the #DB in `frame` (DR6 was `status`) and lets the interrupted
/// hypervisor code go on.
pub fn in_hypervisor(frame: &mut TrapFrame, status: u64) {
    frame.rflags &= !TF;
    let taken = TAKEN.fetch_add(1, Ordering::Relaxed) + 1;
    // A guest can cause one per hypercall: the log gets the 1st, 2nd, 4th,
    // 8th..., not every one.
    if taken.is_power_of_two() {
        let here = frame as *const TrapFrame as u64;
        let stack = Stack::containing(here).map_or("unknown", Stack::name);
        warn!(
            "#DB in hypervisor context at rip {:#x}, rsp {:#018x}, dr6 {status:#x}, on the {stack} stack: going on ({taken} so far)",
            frame.rip, frame.rsp
        );
    }
}
