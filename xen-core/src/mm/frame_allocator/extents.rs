//! Extents: runs of `2^order` free frames, contiguous and aligned, below a
//! frame limit, for guests' reservations.

use super::{FRAMES_PER_WORD, FrameAllocator};
use crate::mm::mfn::Mfn;

impl<const WORDS: usize> FrameAllocator<WORDS> {
    /// Takes `2^order` free frames, machine-contiguous and aligned to their
    /// size, all below frame `limit` (a device's DMA reach): `XENMEM_
    /// populate_physmap` and `exchange` extents. The lowest such run is
    /// taken; one pass over the bitmap at most. `None` if there is none (or
    /// `order` is beyond 30).
    pub fn allocate_extent(&mut self, order: u32, limit: Mfn) -> Option<Mfn> {
        if order == 0 && limit.0 >= Self::CAPACITY_FRAMES {
            return self.allocate();
        }
        if order > 30 {
            return None;
        }
        let count = 1u64 << order;
        let first = self.find_run(count, limit.0.min(Self::CAPACITY_FRAMES))?;
        let mut frame = first;
        while frame < first + count {
            let bit = frame % FRAMES_PER_WORD;
            let run = (FRAMES_PER_WORD - bit).min(first + count - frame);
            let mask = (u64::MAX >> (FRAMES_PER_WORD - run)) << bit;
            if let Some((free, _)) = self.words_mut(frame) {
                *free &= !mask;
            }
            frame += run;
        }
        self.free_frames = self.free_frames.saturating_sub(count);
        Some(Mfn(first))
    }

    /// The first frame of the lowest free aligned run of `count` (a power
    /// of two) frames ending at or below `limit`.
    fn find_run(&self, count: u64, limit: u64) -> Option<u64> {
        if count > self.free_frames {
            return None;
        }
        if count < FRAMES_PER_WORD {
            // Runs inside one word: test each aligned group of bits.
            let group = (1u64 << count) - 1;
            for (index, &word) in self.free.iter().enumerate() {
                let base = index as u64 * FRAMES_PER_WORD;
                if base >= limit {
                    return None;
                }
                if word == 0 {
                    continue;
                }
                for shift in (0..FRAMES_PER_WORD).step_by(count as usize) {
                    if (word >> shift) & group == group && base + shift + count <= limit {
                        return Some(base + shift);
                    }
                }
            }
            return None;
        }
        // Runs of whole words: `count / 64` all-free words, aligned.
        let words = (count / FRAMES_PER_WORD) as usize;
        let mut start = 0;
        while start + words <= WORDS {
            let base = start as u64 * FRAMES_PER_WORD;
            if base + count > limit {
                return None;
            }
            match self.free[start..start + words]
                .iter()
                .position(|&word| word != u64::MAX)
            {
                None => return Some(base),
                // Skip to the next aligned run past the partly used word.
                Some(used) => start = (start + used + words) / words * words,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{drain, frames};
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn extents_are_free_aligned_runs_below_the_limit() {
        let mut allocator = FrameAllocator::<8>::new();
        allocator.add_free_range(frames(3, 512));
        // Order 2 from frame 3 on: 4 (aligned) is the first whole run.
        assert_eq!(allocator.allocate_extent(2, Mfn(512)), Some(Mfn(4)));
        assert!((4..8).all(|frame| !allocator.is_free(Mfn(frame))));
        // Order 7 (two whole words): 128 is the first aligned pair.
        assert_eq!(allocator.allocate_extent(7, Mfn(512)), Some(Mfn(128)));
        assert_eq!(allocator.free_frames(), 509 - 4 - 128);
        // Word-sized runs: 64..128 is free and aligned.
        assert_eq!(allocator.allocate_extent(6, Mfn(512)), Some(Mfn(64)));
        // Below a limit there may be none.
        assert_eq!(allocator.allocate_extent(6, Mfn(64)), None);
        assert_eq!(allocator.allocate_extent(8, Mfn(512)), Some(Mfn(256)));
        assert_eq!(
            allocator.allocate_extent(8, Mfn(512)),
            None,
            "only 3 and 8..64 left below 256"
        );
        assert_eq!(allocator.allocate_extent(3, Mfn(16)), Some(Mfn(8)));
        assert_eq!(
            allocator.allocate_extent(0, Mfn(4)),
            Some(Mfn(3)),
            "order 0 honours the limit"
        );
        assert_eq!(allocator.allocate_extent(31, Mfn(u64::MAX)), None);
    }

    proptest! {
        /// Whatever was taken before, an extent is free, aligned, below the
        /// limit, and never overlaps another.
        #[test]
        fn extents_never_overlap(orders in proptest::collection::vec((0u32..9, 64u64..1024), 1..40)) {
            let mut allocator = FrameAllocator::<16>::new();
            allocator.add_free_range(frames(1, 1000));
            let mut taken = BTreeSet::new();
            for (order, limit) in orders {
                let before = allocator.free_frames();
                if let Some(first) = allocator.allocate_extent(order, Mfn(limit)) {
                    let count = 1u64 << order;
                    prop_assert_eq!(first.0 % count, 0);
                    prop_assert!(first.0 + count <= limit);
                    for frame in first.0..first.0 + count {
                        prop_assert!(taken.insert(frame), "frame {} twice", frame);
                    }
                    prop_assert_eq!(allocator.free_frames(), before - count);
                }
            }
            for frame in drain(&mut allocator) {
                prop_assert!(!taken.contains(&frame));
            }
        }
    }
}
