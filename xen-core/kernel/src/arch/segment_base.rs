//! The guest's FS and GS bases, loaded before returning to it.

use x86_64::VirtAddr;
use x86_64::registers::model_specific::{FsBase, GsBase, KernelGsBase};

/// Loads the guest's FS base, the GS base of the mode it is in and, in the
/// shadow GS base, the other mode's, so that a change of mode is one
/// [`swap_gs`]. Called only when the guest changed them (hypercall or
/// emulated `wrmsr`) or another vCPU comes on, and then always written: the
/// guest can also reset a base behind our back by loading a selector into
/// FS or GS in ring 3, so a cached "already loaded" value could be stale.
/// The hypervisor itself uses none of the three.
pub fn load(fs: u64, gs: u64, gs_other: u64) {
    // All were checked canonical when the guest set them; `try_new` keeps a
    // bug from faulting here.
    if let Ok(base) = VirtAddr::try_new(fs) {
        FsBase::write(base);
    }
    if let Ok(base) = VirtAddr::try_new(gs) {
        GsBase::write(base);
    }
    if let Ok(base) = VirtAddr::try_new(gs_other) {
        KernelGsBase::write(base);
    }
}

/// Trades the GS base and the shadow GS base: the guest changed mode, as
/// Xen's `toggle_guest_mode` does it.
pub fn swap_gs() {
    // SAFETY: the hypervisor uses neither GS base (no per-CPU data through
    // GS, no `swapgs` in its entry paths), so trading them changes only
    // what the guest sees, as intended.
    unsafe { core::arch::asm!("swapgs", options(nomem, nostack, preserves_flags)) };
}
