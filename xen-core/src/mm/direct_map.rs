//! Which physical ranges the hypervisor's direct map covers.
//!
//! The direct map is built from 2 MiB pages. It covers the memory-map regions
//! that hold memory (RAM, ACPI tables, NVS, persistent memory), each rounded out
//! to 2 MiB, but not the holes between them: a write-back mapping of device
//! memory invites speculative reads of registers with side effects.

use crate::mm::PhysRange;
use crate::mm::hypervisor_page_table::LARGE_PAGE_SIZE;
use heapless::Vec;

/// Most ranges the direct map is built from.
pub const DIRECT_MAP_RANGES: usize = 64;

/// Rounds each range out to 2 MiB and merges what then touches or overlaps.
///
/// Input in any order; output sorted and disjoint. Ranges beyond
/// [`DIRECT_MAP_RANGES`] after merging are dropped and counted in the second
/// value, so the caller can log what it could not map.
pub fn direct_map_ranges(memory: impl IntoIterator<Item = PhysRange>) -> (Vec<PhysRange, DIRECT_MAP_RANGES>, usize) {
    let mut rounded: Vec<PhysRange, DIRECT_MAP_RANGES> = Vec::new();
    let mut dropped = 0;
    for range in memory.into_iter().filter(|r| !r.is_empty()) {
        let start = range.start - range.start % LARGE_PAGE_SIZE;
        let end = range
            .end
            .checked_next_multiple_of(LARGE_PAGE_SIZE)
            .unwrap_or(u64::MAX - (LARGE_PAGE_SIZE - 1));
        let mut merged = PhysRange::new(start, end);
        // Absorb every range it touches, then insert it in order.
        let mut index = 0;
        while index < rounded.len() {
            let other = rounded[index];
            if other.start <= merged.end && merged.start <= other.end {
                merged = PhysRange::new(merged.start.min(other.start), merged.end.max(other.end));
                rounded.remove(index);
            } else {
                index += 1;
            }
        }
        let position = rounded
            .iter()
            .position(|r| r.start > merged.start)
            .unwrap_or(rounded.len());
        if rounded.insert(position, merged).is_err() {
            dropped += 1;
        }
    }
    (rounded, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    const MIB: u64 = 1 << 20;

    #[test]
    fn ranges_are_rounded_out_and_merged() {
        let memory = vec![
            PhysRange::new(0x10_0000, 0x7fe_0000), // q35: RAM above 1 MiB
            PhysRange::new(0, 0x9_fc00),           // low RAM
            PhysRange::new(0x1_0000_0000, 0x1_4000_0000),
        ];
        let (ranges, dropped) = direct_map_ranges(memory);
        assert_eq!(dropped, 0);
        assert_eq!(
            &ranges[..],
            &[PhysRange::new(0, 128 * MIB), PhysRange::new(4096 * MIB, 5120 * MIB)]
        );
    }

    #[test]
    fn a_hole_wider_than_two_mib_stays_unmapped() {
        let (ranges, _) = direct_map_ranges(vec![PhysRange::new(0, 3 * MIB), PhysRange::new(9 * MIB, 10 * MIB)]);
        assert_eq!(
            &ranges[..],
            &[PhysRange::new(0, 4 * MIB), PhysRange::new(8 * MIB, 10 * MIB)]
        );
    }

    #[test]
    fn a_range_bridging_two_others_merges_all_three() {
        let (ranges, _) = direct_map_ranges(vec![
            PhysRange::new(0, 2 * MIB),
            PhysRange::new(8 * MIB, 10 * MIB),
            PhysRange::new(MIB, 9 * MIB),
        ]);
        assert_eq!(&ranges[..], &[PhysRange::new(0, 10 * MIB)]);
    }

    #[test]
    fn the_top_of_the_address_space_does_not_overflow() {
        let (ranges, _) = direct_map_ranges(vec![PhysRange::new(u64::MAX - MIB, u64::MAX)]);
        assert_eq!(ranges.len(), 1);
        assert_eq!(ranges[0].start % LARGE_PAGE_SIZE, 0);
        assert!(ranges[0].end >= u64::MAX - 2 * MIB);
    }
}
