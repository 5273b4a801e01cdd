//! The guest's FS and GS bases, loaded before returning to it.

use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::VirtAddr;
use x86_64::registers::model_specific::{FsBase, GsBase};

/// What the MSRs hold now, so unchanged bases cost no `wrmsr`.
static LOADED: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// Loads the guest kernel's FS and GS bases. The hypervisor itself uses
/// neither, so they can hold the guest's values at all times.
pub fn load(fs: u64, gs: u64) {
    // Both were checked canonical when the guest set them (hypercall or
    // emulated wrmsr); `VirtAddr::try_new` keeps a bug from faulting here.
    // Compare first: on the hypercall path the bases almost never change.
    if LOADED[0].load(Ordering::Relaxed) != fs
        && let Ok(base) = VirtAddr::try_new(fs)
    {
        LOADED[0].store(fs, Ordering::Relaxed);
        FsBase::write(base);
    }
    if LOADED[1].load(Ordering::Relaxed) != gs
        && let Ok(base) = VirtAddr::try_new(gs)
    {
        LOADED[1].store(gs, Ordering::Relaxed);
        GsBase::write(base);
    }
}
