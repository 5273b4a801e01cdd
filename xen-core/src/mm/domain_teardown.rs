//! Giving back a destroyed domain's frames (Xen's `domain_relinquish_resources`),
//! a bounded part per scheduling pass.

use super::Mfn;
use super::budget::Budget;
use super::frame_table::FrameTable;
use super::job::{Job, Relinquishing};
use super::teardown::Teardown;
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

impl FrameTable<'_> {
    /// Unpins every table of `owner` (devalidating its trees) and drops every
    /// allocation reference at once, handing each frame that becomes free to
    /// `freed`. The caller puts the domain's base pointers first. For tests
    /// and the builder's failures; destroyed domains go through
    /// [`FrameTable::begin_relinquish`], which does the same in bounded steps.
    pub fn relinquish_all<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        owner: DomId,
        freed: &mut impl FnMut(Mfn),
    ) -> Teardown {
        let mut progress = Relinquishing::default();
        let mut unlimited = Budget::unlimited();
        while self
            .relinquish_from(memory, owner, &mut progress, &mut unlimited, freed)
            .is_err()
        {}
        progress.teardown
    }

    /// Goes on with `owner`'s teardown from `progress` within `budget`
    /// (one unit per frame looked at, one per entry released): -ERESTART
    /// when it ran out. First what the domain left unfinished (a validation
    /// is given up, a release finished), then every pin (devalidating the
    /// trees), then every allocation reference. Without linear entries types
    /// form a strict hierarchy, so no reference cycle can keep frames alive.
    pub(super) fn relinquish_from<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        owner: DomId,
        progress: &mut Relinquishing,
        budget: &mut Budget,
        freed: &mut impl FnMut(Mfn),
    ) -> Result<(), Errno> {
        self.give_up_validation(owner);
        self.settle(memory, owner, budget)?;
        let count = self.frame_count();
        while progress.next < 2 * count {
            if !budget.take() {
                return Err(Errno::ERESTART);
            }
            let index = (progress.next % count) as usize;
            let unpinning = progress.next < count;
            progress.next += 1;
            let mfn = Mfn(index as u64);
            if self.frames()[index].owner != Some(owner) {
                continue;
            }
            if unpinning {
                if self.frames()[index].pinned {
                    // Cannot fail: the frame is `owner`'s and pinned.
                    let _ = self.unpin_within(memory, mfn, owner, budget);
                    if self
                        .jobs
                        .iter()
                        .any(|job| matches!(job, Job::Release { owner: of, .. } if *of == owner))
                    {
                        return Err(Errno::ERESTART);
                    }
                }
                continue;
            }
            let Some(frame) = self.frame_mut(mfn) else {
                continue; // cannot happen: index < count
            };
            if frame.allocated {
                frame.allocated = false;
                // Not `put_page_raw`: a frame freed here goes to `freed`,
                // not to the orphan queue as well.
                let _ = self.release_general(mfn);
            }
            if self.frames()[index].is_free() {
                progress.teardown.freed += 1;
                freed(mfn);
            } else {
                progress.teardown.still_referenced += 1;
            }
        }
        Ok(())
    }
}
