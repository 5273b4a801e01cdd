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

/// Saves the FPU and SSE registers into `area` (a vCPU leaves the CPU).
/// CR0.TS is cleared first, or `fxsave` would fault; loading the next
/// vCPU's state sets it again as that vCPU wants.
pub fn save(area: &mut xen_core::domain::vcpu::FpuArea) {
    set_task_switched(false);
    // SAFETY: the area is 512 bytes, 16-byte aligned (FpuArea's repr), and
    // CR0.TS is clear, so fxsave cannot fault.
    unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) area.0.as_mut_ptr(), options(nostack)) };
}

/// Loads the FPU and SSE registers from `area` (a vCPU comes onto the CPU).
pub fn restore(area: &xen_core::domain::vcpu::FpuArea) {
    set_task_switched(false);
    // SAFETY: as for `save`; the image came from fxsave or FpuArea's
    // default, so MXCSR has no reserved bits set and fxrstor cannot fault.
    unsafe { core::arch::asm!("fxrstor64 [{}]", in(reg) area.0.as_ptr(), options(nostack)) };
}
