//! The RAM no reservation touches, carved out of a map's regions and reservations
//! in whole frames.
//!
//! The carving reads the map's two lists rather than the map itself, so that this
//! file does not import `memory_map.rs`, which hands out this iterator.

use crate::boot::memory_map::memory_region::MemoryRegion;
use crate::boot::memory_map::region_kind::RegionKind;
use crate::boot::memory_map::reservation::Reservation;
use crate::mm::PhysRange;
use crate::mm::mfn::PAGE_SIZE;

/// The iterator returned by
/// [`MemoryMap::usable_ranges`](crate::boot::memory_map::MemoryMap::usable_ranges).
#[derive(Clone, Debug)]
pub struct UsableRanges<'m> {
    /// The map's resolved regions: sorted, disjoint.
    regions: &'m [MemoryRegion],
    /// The map's reservations.
    reservations: &'m [Reservation],
    /// Index of the region being carved.
    region: usize,
    /// Everything below this address has been yielded or skipped.
    cursor: u64,
}

impl<'m> UsableRanges<'m> {
    /// The usable ranges of the map made of `regions` (sorted, disjoint) and
    /// `reservations`, from the lowest address up.
    pub(super) fn new(regions: &'m [MemoryRegion], reservations: &'m [Reservation]) -> UsableRanges<'m> {
        UsableRanges {
            regions,
            reservations,
            region: 0,
            cursor: 0,
        }
    }

    /// The first address at or after `address` that no reservation holds.
    fn first_unreserved(&self, mut address: u64) -> u64 {
        // Each pass either moves `address` strictly up or ends, so this terminates;
        // several passes are needed when reservations chain into one another.
        loop {
            let mut moved = false;
            for reservation in self.reservations {
                if reservation.range.contains(address) {
                    address = reservation.range.end;
                    moved = true;
                }
            }
            if !moved {
                return address;
            }
        }
    }

    /// The lowest reservation start above `address`, or the top of the address space.
    fn next_reservation_start(&self, address: u64) -> u64 {
        self.reservations
            .iter()
            .map(|reservation| reservation.range.start)
            .filter(|&start| start > address)
            .min()
            .unwrap_or(u64::MAX)
    }
}

impl Iterator for UsableRanges<'_> {
    type Item = PhysRange;

    fn next(&mut self) -> Option<PhysRange> {
        loop {
            let region = *self.regions.get(self.region)?;
            let start = self.first_unreserved(self.cursor.max(region.range.start));
            if region.kind != RegionKind::Ram || start >= region.range.end {
                self.region = self.region.saturating_add(1);
                continue;
            }
            let end = self.next_reservation_start(start).min(region.range.end);
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
