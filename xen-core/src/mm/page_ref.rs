//! General references (Xen's `count_info`) and [`PageRef`], the handle holding one.
//!
//! A handle cannot be forged (its field is private to `mm`), copied or cloned,
//! and giving it back consumes it, so a reference is put at most once per get.
//! Forgetting to give it back only keeps the frame alive (it is never freed
//! while referenced), and `#[must_use]` warns about the obvious cases; in host
//! tests dropping a handle instead of putting it panics, so every test also
//! checks that each get has its put. There is one frame table per machine, so
//! handles carry no table identity.

use super::Mfn;
use super::frame_info::{FrameInfo, MAX_REFS};
use super::frame_table::FrameTable;
use core::mem::ManuallyDrop;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

/// One general reference on a frame, to be returned with [`FrameTable::put_page`].
#[must_use = "a general reference must be returned with FrameTable::put_page"]
#[derive(Debug, PartialEq, Eq)]
pub struct PageRef {
    mfn: Mfn,
}

impl PageRef {
    /// Wraps a reference already counted in the table (and in `handle_refs`).
    pub(super) const fn new(mfn: Mfn) -> Self {
        PageRef { mfn }
    }

    /// The referenced frame.
    pub const fn mfn(&self) -> Mfn {
        self.mfn
    }

    /// Gives up the handle without touching the table; the caller takes over
    /// the reference.
    pub(super) fn into_mfn(self) -> Mfn {
        ManuallyDrop::new(self).mfn
    }
}

#[cfg(test)]
impl Drop for PageRef {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("PageRef for {} dropped without put_page", self.mfn);
        }
    }
}

impl FrameTable<'_> {
    /// Takes a general reference on `mfn`, which must be an allocated frame of
    /// `owner`. -EINVAL beyond the table, for a free or foreign frame, or if
    /// the count would overflow; nothing changes then.
    pub fn get_page(&mut self, mfn: Mfn, owner: DomId) -> Result<PageRef, Errno> {
        self.get_page_raw(mfn, owner)?;
        if let Some(frame) = self.frame_mut(mfn) {
            frame.handle_refs += 1;
        }
        Ok(PageRef::new(mfn))
    }

    /// Returns a general reference; the frame is free once none is left.
    pub fn put_page(&mut self, page: PageRef) {
        let mfn = page.into_mfn();
        if let Some(frame) = self.frame_mut(mfn) {
            frame.handle_refs = frame.handle_refs.saturating_sub(1);
        }
        // A handle always stands for a counted reference.
        let _ = self.put_page_raw(mfn);
    }

    /// Counts a general reference on an allocated frame of `owner`.
    pub(super) fn get_page_raw(&mut self, mfn: Mfn, owner: DomId) -> Result<(), Errno> {
        let frame = self.frame_mut(mfn).ok_or(Errno::EINVAL)?;
        if frame.owner != Some(owner) || !frame.allocated || frame.count == 0 || frame.count >= MAX_REFS {
            return Err(Errno::EINVAL);
        }
        frame.count += 1;
        Ok(())
    }

    /// Drops a counted general reference, freeing the frame at zero. Refuses
    /// (-EINVAL, no change) to go below zero. A frame its owner gave up
    /// (destroyed while others still referenced it) that becomes free here
    /// is queued for the allocator ([`FrameTable::take_freed_orphans`]).
    pub(super) fn put_page_raw(&mut self, mfn: Mfn) -> Result<(), Errno> {
        if self.release_general(mfn)? {
            self.queue_orphan(mfn);
        }
        Ok(())
    }

    /// Drops a counted general reference; whether that freed a frame its
    /// owner had given up (owned, no allocation reference).
    pub(super) fn release_general(&mut self, mfn: Mfn) -> Result<bool, Errno> {
        let frame = self.frame_mut(mfn).ok_or(Errno::EINVAL)?;
        if frame.count == 0 {
            return Err(Errno::EINVAL);
        }
        frame.count -= 1;
        if frame.count == 0 {
            let owner = frame.owner.filter(|_| !frame.shared_xen_page);
            let orphan = frame.owner.is_some() && !frame.allocated;
            *frame = FrameInfo::FREE;
            if let Some(owner) = owner {
                self.count_freed(owner);
            }
            return Ok(orphan);
        }
        Ok(false)
    }
}
