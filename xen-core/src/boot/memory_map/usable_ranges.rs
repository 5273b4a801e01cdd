//! The RAM no reservation touches, carved out of a [`MemoryMap`] in whole frames.

use crate::boot::memory_map::{MemoryMap, RegionKind};
use crate::mm::PhysRange;
use crate::mm::mfn::PAGE_SIZE;

/// The iterator returned by [`MemoryMap::usable_ranges`].
#[derive(Clone, Debug)]
pub struct UsableRanges<'m> {
    pub(super) map: &'m MemoryMap,
    /// Index of the region being carved.
    pub(super) region: usize,
    /// Everything below this address has been yielded or skipped.
    pub(super) cursor: u64,
}

impl Iterator for UsableRanges<'_> {
    type Item = PhysRange;

    fn next(&mut self) -> Option<PhysRange> {
        loop {
            let region = *self.map.regions.get(self.region)?;
            let start = self.map.first_unreserved(self.cursor.max(region.range.start));
            if region.kind != RegionKind::Ram || start >= region.range.end {
                self.region = self.region.saturating_add(1);
                continue;
            }
            let end = self.map.next_reservation_start(start).min(region.range.end);
            self.cursor = end;
            let usable = whole_frames(PhysRange::new(start, end));
            if !usable.is_empty() {
                return Some(usable);
            }
        }
    }
}

/// The part of `range` made of whole frames (possibly empty).
fn whole_frames(range: PhysRange) -> PhysRange {
    let frames = range.inner_frames();
    match (frames.start.checked_mul(PAGE_SIZE), frames.end.checked_mul(PAGE_SIZE)) {
        (Some(start), Some(end)) => PhysRange::new(start, end),
        _ => PhysRange::new(0, 0),
    }
}
