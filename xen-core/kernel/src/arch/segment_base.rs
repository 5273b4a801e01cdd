//! The guest's FS and GS bases, loaded before returning to it.

use x86_64::VirtAddr;
use x86_64::registers::model_specific::{FsBase, GsBase};

/// Loads the guest kernel's FS and GS bases. Called only when the guest
/// changed them (hypercall or emulated `wrmsr`), and then always written: the
/// guest can also reset a base behind our back by loading a selector into FS
/// or GS in ring 3, so a cached "already loaded" value could be stale. The
/// hypervisor itself uses neither base.
pub fn load(fs: u64, gs: u64) {
    // Both were checked canonical when the guest set them; `try_new` keeps a
    // bug from faulting here.
    if let Ok(base) = VirtAddr::try_new(fs) {
        FsBase::write(base);
    }
    if let Ok(base) = VirtAddr::try_new(gs) {
        GsBase::write(base);
    }
}
