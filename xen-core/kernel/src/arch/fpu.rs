//! The real CR0.TS, carrying the guest's virtual one (`fpu_taskswitch`).

use x86_64::registers::control::{Cr0, Cr0Flags};

/// Sets CR0.TS to `switched` if it is not already: with TS set, the guest's
/// next FPU instruction raises #NM, which is bounced to it.
pub fn set_task_switched(switched: bool) {
    let flags = Cr0::read();
    if flags.contains(Cr0Flags::TASK_SWITCHED) != switched {
        // SAFETY: TS only makes FPU instructions trap; the hypervisor itself
        // uses no FPU or SSE instructions (soft-float target).
        unsafe { Cr0::write(flags ^ Cr0Flags::TASK_SWITCHED) };
    }
}
