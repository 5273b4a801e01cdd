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
    if LOADED[0].swap(fs, Ordering::Relaxed) != fs
        && let Ok(base) = VirtAddr::try_new(fs)
    {
        FsBase::write(base);
    }
    if LOADED[1].swap(gs, Ordering::Relaxed) != gs
        && let Ok(base) = VirtAddr::try_new(gs)
    {
        GsBase::write(base);
    }
}
