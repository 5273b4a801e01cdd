//! The real CR0.TS, carrying the guest's virtual one (`fpu_taskswitch`).

use core::sync::atomic::{AtomicBool, Ordering};
use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};

/// What CR0.TS holds now (clear at boot), so the common case costs a load and
/// a compare on every return to the guest instead of a CR0 read.
static TASK_SWITCHED: AtomicBool = AtomicBool::new(false);

/// Sets CR0.TS to `switched` if it is not already: with TS set, the guest's
/// next FPU instruction raises #NM, which is bounced to it.
pub fn set_task_switched(switched: bool) {
    if TASK_SWITCHED.load(Ordering::Relaxed) == switched {
        return;
    }
    TASK_SWITCHED.store(switched, Ordering::Relaxed);
    let mut flags = Cr0::read();
    flags.set(Cr0Flags::TASK_SWITCHED, switched);
    // SAFETY: TS only makes FPU instructions trap; the hypervisor itself
    // uses no FPU or SSE instructions (soft-float target).
    unsafe { Cr0::write(flags) };
}

/// Lets guests use SSE: CR4.OSFXSR (FXSAVE/FXRSTOR and SSE instructions) and
/// CR4.OSXMMEXCPT (SIMD exceptions as #XM). Without them every SSE
/// instruction raises #UD. The hypervisor itself is built soft-float and
/// never touches these registers.
pub fn enable_sse_for_guests() {
    // SAFETY: only changes how SSE instructions behave; the hypervisor has none.
    unsafe { Cr4::update(|flags| flags.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE)) };
}
