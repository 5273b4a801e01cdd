//! Dead domains' memory going back to the allocator: bounded teardown
//! steps, and frames that became free when their last mapping went.

use super::Hypervisor;
use crate::arch::{FrameSink, Machine};
use crate::log_level::LogLevel;
use crate::mm::FrameTable;
use crate::mm::budget::Budget;

impl Hypervisor {
    /// Whether a destroyed domain's memory is still going back.
    pub(super) fn teardowns_pending(&self) -> bool {
        self.frames.as_ref().is_some_and(FrameTable::teardowns_pending)
    }

    /// Goes on giving back destroyed domains' memory within `budget` (a
    /// bounded part per scheduling pass, so a large domain's end stalls
    /// nobody), and logs each domain whose teardown finished. Out of line:
    /// the scheduler calls it only while a teardown is under way.
    #[cold]
    #[inline(never)]
    pub(super) fn relinquish_some<M: Machine>(&mut self, mut budget: Budget, machine: &mut M) {
        let Some(frames) = self.frames.as_mut() else {
            return;
        };
        if !frames.teardowns_pending() {
            return;
        }
        let (memory, allocator) = machine.memory_and_allocator();
        let finished = frames.relinquish_steps(memory, &mut budget, &mut |mfn| {
            allocator.free_frame(mfn);
        });
        for (id, teardown) in &finished {
            machine.log(
                LogLevel::Info,
                format_args!(
                    "domain {id}'s memory given back: {} frames freed, {} still referenced",
                    teardown.freed, teardown.still_referenced
                ),
            );
        }
    }

    /// Returns to the allocator the frames of destroyed domains that became
    /// free since (another domain's last mapping of them went).
    pub(super) fn give_back_orphans<M: Machine>(&mut self, machine: &mut M) {
        let Some(frames) = self.frames.as_mut() else {
            return;
        };
        if !frames.has_freed_orphans() {
            return;
        }
        let (_, allocator) = machine.memory_and_allocator();
        let mut given = 0;
        for mfn in frames.take_freed_orphans() {
            if allocator.free_frame(mfn) {
                given += 1;
            }
        }
        machine.log(
            LogLevel::Info,
            format_args!("frames: {given} of ended domains given back, their last mapping gone"),
        );
        if frames.lost_orphans() > 0 {
            machine.log(
                LogLevel::Warn,
                format_args!(
                    "frames: {} of ended domains lost (the queue was full)",
                    frames.lost_orphans()
                ),
            );
        }
    }
}
