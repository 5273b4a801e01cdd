//! Giving back a destroyed domain's frames (Xen's `domain_relinquish_resources`).

use super::Mfn;
use super::frame_table::FrameTable;
use crate::arch::PhysicalMemory;
use crate::domain::pv_domain::DomId;

/// What tearing a domain down left behind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Teardown {
    /// Frames that became free.
    pub freed: u64,
    /// Frames still referenced from elsewhere (another domain's mapping, a
    /// handle not yet put); each becomes free when its last reference goes,
    /// and is then queued for the allocator
    /// ([`FrameTable::take_freed_orphans`]).
    pub still_referenced: u64,
}

impl FrameTable<'_> {
    /// Unpins every table of `owner` (devalidating its trees) and drops every
    /// allocation reference, handing each frame that becomes free to `freed`
    /// (the caller returns it to its allocator). The caller puts the
    /// domain's base pointers first. Without linear entries types form a strict hierarchy, so no
    /// reference cycle can keep frames alive. Costs one pass over the frame
    /// table per phase; per-domain frame lists can replace that later.
    pub fn destroy_domain<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        owner: DomId,
        freed: &mut impl FnMut(Mfn),
    ) -> Teardown {
        for index in 0..self.frames.len() {
            let mfn = Mfn(index as u64);
            if self.frames[index].owner == Some(owner) && self.frames[index].pinned {
                // Cannot fail: the frame is `owner`'s and pinned.
                let _ = self.unpin(memory, mfn, owner);
            }
        }
        let mut teardown = Teardown::default();
        for index in 0..self.frames.len() {
            let frame = &mut self.frames[index];
            if frame.owner != Some(owner) {
                continue;
            }
            if frame.allocated {
                frame.allocated = false;
                // Not `put_page_raw`: a frame freed here goes to `freed`,
                // not to the orphan queue as well.
                let _ = self.release_general(Mfn(index as u64));
            }
            if self.frames[index].is_free() {
                teardown.freed += 1;
                freed(Mfn(index as u64));
            } else {
                teardown.still_referenced += 1;
            }
        }
        teardown
    }
}
