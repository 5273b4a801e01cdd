//! The map over untidy firmware entries and reservations, and a property test that
//! the usable ranges are exactly the unclaimed whole RAM frames.

use super::*;
use crate::mm::mfn::PAGE_SIZE;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::string::ToString;
use std::vec::Vec as StdVec;
use xen_abi::hvm_start_info::{
    XEN_HVM_MEMMAP_TYPE_ACPI, XEN_HVM_MEMMAP_TYPE_RAM, XEN_HVM_MEMMAP_TYPE_RESERVED, XEN_HVM_MEMMAP_TYPE_UNUSABLE,
};

const RAM: u32 = XEN_HVM_MEMMAP_TYPE_RAM;
const RESERVED: u32 = XEN_HVM_MEMMAP_TYPE_RESERVED;
const ACPI: u32 = XEN_HVM_MEMMAP_TYPE_ACPI;
const UNUSABLE: u32 = XEN_HVM_MEMMAP_TYPE_UNUSABLE;
const MIB: u64 = 1 << 20;

fn entry(addr: u64, size: u64, kind: u32) -> HvmMemmapTableEntry {
    HvmMemmapTableEntry {
        addr,
        size,
        kind,
        reserved: 0,
    }
}

fn region(start: u64, end: u64, kind: RegionKind) -> MemoryRegion {
    MemoryRegion {
        range: PhysRange::new(start, end),
        kind,
    }
}

fn usable(map: &MemoryMap) -> StdVec<(u64, u64)> {
    map.usable_ranges().map(|range| (range.start, range.end)).collect()
}

fn two_banks() -> MemoryMap {
    MemoryMap::from_firmware([entry(0, 0x10_0000, RAM), entry(0x20_0000, 0x10_0000, RAM)]).unwrap()
}

#[test]
fn non_ram_wins_over_ram_where_entries_overlap() {
    let map = MemoryMap::from_firmware([
        entry(0, 0x10000, RAM),
        entry(0x8000, 0x1000, RESERVED),
        entry(0xf000, 0x2000, ACPI),
    ])
    .unwrap();
    let regions: StdVec<_> = map.regions().collect();
    assert_eq!(
        regions,
        [
            region(0, 0x8000, RegionKind::Ram),
            region(0x8000, 0x9000, RegionKind::Reserved),
            region(0x9000, 0xf000, RegionKind::Ram),
            region(0xf000, 0x11000, RegionKind::Acpi),
        ]
    );
}

#[test]
fn the_higher_type_wins_between_two_non_ram_kinds() {
    let map = MemoryMap::from_firmware([
        entry(0, 0x4000, RAM),
        entry(0x1000, 0x2000, ACPI),
        entry(0x2000, 0x2000, UNUSABLE),
    ])
    .unwrap();
    let regions: StdVec<_> = map.regions().collect();
    assert_eq!(
        regions,
        [
            region(0, 0x1000, RegionKind::Ram),
            region(0x1000, 0x2000, RegionKind::Acpi),
            region(0x2000, 0x4000, RegionKind::Unusable),
        ]
    );
}

#[test]
fn unsorted_duplicate_and_adjacent_ram_entries_merge() {
    let map = MemoryMap::from_firmware([
        entry(0x3000, 0x1000, RAM),
        entry(0, 0x2000, RAM),
        entry(0x2000, 0x1000, RAM),
        entry(0, 0x2000, RAM),
        entry(0x6000, 0x1000, RAM),
    ])
    .unwrap();
    let regions: StdVec<_> = map.regions().collect();
    assert_eq!(
        regions,
        [
            region(0, 0x4000, RegionKind::Ram),
            region(0x6000, 0x7000, RegionKind::Ram)
        ]
    );
    assert_eq!(map.total_ram(), 0x5000);
    assert_eq!(map.highest_ram_address(), 0x7000);
}

#[test]
fn qboots_bogus_empty_entry_is_ignored() {
    let map = MemoryMap::from_firmware([
        entry(0, 0, 0),
        entry(0, 0x9fc00, RAM),
        entry(0x9fc00, 0x400, RESERVED),
        entry(0xf0000, 0x10000, RESERVED),
        entry(MIB, 127 * MIB, RAM),
    ])
    .unwrap();
    assert_eq!(map.regions().count(), 4);
    assert_eq!(usable(&map), [(0, 0x9f000), (MIB, 128 * MIB)]);
}

#[test]
fn unknown_types_mask_ram_like_reserved() {
    let map = MemoryMap::from_firmware([entry(0, 0x4000, RAM), entry(0x1000, 0x1000, 12)]).unwrap();
    assert_eq!(map.regions().nth(1), Some(region(0x1000, 0x2000, RegionKind::Reserved)));
    assert_eq!(usable(&map), [(0, 0x1000), (0x2000, 0x4000)]);
}

#[test]
fn entries_past_the_top_of_the_address_space_are_clamped() {
    let map = MemoryMap::from_firmware([entry(u64::MAX - 0x2fff, 0x10000, RAM)]).unwrap();
    assert_eq!(map.highest_ram_address(), u64::MAX);
    assert_eq!(map.total_ram(), 0x2fff);
    // The last, partial frame is not usable.
    assert_eq!(usable(&map), [(u64::MAX - 0x2fff, u64::MAX - 0xfff)]);
}

#[test]
fn a_map_without_ram_is_refused() {
    assert_eq!(MemoryMap::from_firmware([]).unwrap_err(), MemoryMapError::NoRam);
    assert_eq!(
        MemoryMap::from_firmware([entry(0, 0x1000, RESERVED), entry(0, 0, RAM)]).unwrap_err(),
        MemoryMapError::NoRam
    );
    let covered = [entry(0x1000, 0x1000, RAM), entry(0, 0x4000, ACPI)];
    assert_eq!(MemoryMap::from_firmware(covered).unwrap_err(), MemoryMapError::NoRam);
}

#[test]
fn too_many_entries_or_resolved_regions_are_refused() {
    let entries = (0..=MAX_REGIONS as u64).map(|i| entry(i * 0x2000, 0x1000, RAM));
    assert_eq!(
        MemoryMap::from_firmware(entries).unwrap_err(),
        MemoryMapError::TooManyRegions
    );
    let fits = (0..MAX_REGIONS as u64).map(|i| entry(i * 0x2000, 0x1000, RAM));
    assert_eq!(MemoryMap::from_firmware(fits).unwrap().regions().count(), MAX_REGIONS);
    // One RAM bank punched by 127 holes resolves into 255 regions.
    let punched = core::iter::once(entry(0, 0x100_0000, RAM))
        .chain((1..MAX_REGIONS as u64).map(|i| entry(i * 0x2000, 0x1000, RESERVED)));
    assert_eq!(
        MemoryMap::from_firmware(punched).unwrap_err(),
        MemoryMapError::TooManyRegions
    );
}

#[test]
fn a_reservation_at_the_start_of_ram_moves_its_beginning() {
    let mut map = two_banks();
    map.reserve(PhysRange::new(0, 0x2000), "low").unwrap();
    assert_eq!(usable(&map), [(0x2000, 0x10_0000), (0x20_0000, 0x30_0000)]);
}

#[test]
fn a_reservation_in_the_middle_splits_a_bank() {
    let mut map = two_banks();
    map.reserve(PhysRange::new(0x4000, 0x6000), "image").unwrap();
    assert_eq!(usable(&map), [(0, 0x4000), (0x6000, 0x10_0000), (0x20_0000, 0x30_0000)]);
}

#[test]
fn a_reservation_at_the_end_of_ram_moves_its_end() {
    let mut map = two_banks();
    map.reserve(PhysRange::new(0x2f_f000, 0x30_0000), "top").unwrap();
    assert_eq!(usable(&map), [(0, 0x10_0000), (0x20_0000, 0x2f_f000)]);
}

#[test]
fn a_reservation_spanning_two_banks_trims_both() {
    let mut map = two_banks();
    map.reserve(PhysRange::new(0xf_0000, 0x21_0000), "bundle").unwrap();
    assert_eq!(usable(&map), [(0, 0xf_0000), (0x21_0000, 0x30_0000)]);
}

#[test]
fn unaligned_reservations_take_the_whole_frames_they_touch() {
    let mut map = two_banks();
    map.reserve(PhysRange::new(0x1001, 0x1002), "start info").unwrap();
    map.reserve(PhysRange::new(0x4800, 0x7800), "module").unwrap();
    assert_eq!(
        usable(&map),
        [
            (0, 0x1000),
            (0x2000, 0x4000),
            (0x8000, 0x10_0000),
            (0x20_0000, 0x30_0000)
        ]
    );
}

#[test]
fn chained_and_nested_reservations_are_all_skipped() {
    let mut map = two_banks();
    map.reserve(PhysRange::new(0x3000, 0x5000), "b").unwrap();
    map.reserve(PhysRange::new(0x1000, 0x3000), "a").unwrap();
    map.reserve(PhysRange::new(0x5000, 0x9000), "c").unwrap();
    map.reserve(PhysRange::new(0x6000, 0x7000), "inside c").unwrap();
    assert_eq!(usable(&map), [(0, 0x1000), (0x9000, 0x10_0000), (0x20_0000, 0x30_0000)]);
    assert_eq!(map.reservations().count(), 4);
}

#[test]
fn empty_reservations_are_not_recorded_and_the_table_has_a_limit() {
    let mut map = two_banks();
    map.reserve(PhysRange::new(0x5000, 0x5000), "nothing").unwrap();
    assert_eq!(map.reservations().count(), 0);
    for i in 0..MAX_RESERVATIONS as u64 {
        map.reserve(PhysRange::from_start_size(i * 0x1000, 1), "page").unwrap();
    }
    assert_eq!(
        map.reserve(PhysRange::new(0, 1), "one too many"),
        Err(MemoryMapError::TooManyReservations { what: "one too many" })
    );
    assert_eq!(map.usable_ranges().next(), Some(PhysRange::new(0x20000, 0x10_0000)));
}

#[test]
fn errors_read_as_one_line() {
    let what = MemoryMapError::TooManyReservations { what: "dom0 kernel" }.to_string();
    assert_eq!(what, "no room to reserve dom0 kernel: all 32 reservations are taken");
    assert_eq!(MemoryMapError::NoRam.to_string(), "the firmware map has no RAM");
    assert_eq!(
        MemoryMapError::TooManyRegions.to_string(),
        "the firmware map has more than 128 regions"
    );
}

#[test]
fn kinds_round_trip_through_xen_numbers() {
    for number in 0..16 {
        if let Some(kind) = RegionKind::from_xen(number) {
            assert_eq!(kind.to_xen(), number);
            assert!(!kind.name().is_empty());
        }
    }
    assert_eq!(RegionKind::from_xen(0), None);
    assert_eq!(RegionKind::from_xen(8), None);
}

/// Where the property tests' entries start: the first 64 frames.
const SPACE: u64 = 64 * PAGE_SIZE;
/// Above every entry and reservation the property tests make.
const LIMIT: u64 = 2 * SPACE;

/// What the raw inputs say about one byte.
#[derive(Debug, PartialEq)]
struct ByteFacts {
    in_ram: bool,
    in_other: bool,
    in_reservation: bool,
}

impl ByteFacts {
    fn usable(&self) -> bool {
        self.in_ram && !self.in_other && !self.in_reservation
    }
}

fn facts(entries: &[HvmMemmapTableEntry], reserved: &[PhysRange], byte: u64) -> ByteFacts {
    let covering = |entry: &&HvmMemmapTableEntry| PhysRange::from_start_size(entry.addr, entry.size).contains(byte);
    ByteFacts {
        in_ram: entries.iter().filter(covering).any(|entry| entry.kind == RAM),
        in_other: entries.iter().filter(covering).any(|entry| entry.kind != RAM),
        in_reservation: reserved.iter().any(|range| range.contains(byte)),
    }
}

/// The first byte of every piece of `range` between consecutive interesting
/// addresses: the facts are constant on each piece, so checking these checks all.
fn representatives(range: PhysRange, cuts: &BTreeSet<u64>) -> StdVec<u64> {
    core::iter::once(range.start)
        .chain(cuts.range(range.start..range.end).copied())
        .collect()
}

fn firmware_entry() -> impl Strategy<Value = HvmMemmapTableEntry> {
    let kind = prop_oneof![3 => Just(RAM), 2 => 0u32..10];
    let size = prop_oneof![0..SPACE / 2, (0u64..16).prop_map(|frames| frames * PAGE_SIZE)];
    let start = prop_oneof![0..SPACE, (0u64..64).prop_map(|frame| frame * PAGE_SIZE)];
    (start, size, kind).prop_map(|(addr, size, kind)| entry(addr, size, kind))
}

proptest! {
    #[test]
    fn usable_ranges_are_exactly_the_unclaimed_whole_ram_frames(
        entries in proptest::collection::vec(firmware_entry(), 0..=20),
        reservations in proptest::collection::vec((0..SPACE, 0..SPACE / 4), 0..=8),
    ) {
        let reserved: StdVec<PhysRange> = reservations
            .iter()
            .map(|&(start, size)| PhysRange::from_start_size(start, size))
            .collect();
        let mut cuts = BTreeSet::new();
        for entry in &entries {
            cuts.insert(entry.addr);
            cuts.insert(entry.addr + entry.size);
        }
        for range in &reserved {
            cuts.insert(range.start);
            cuts.insert(range.end);
        }
        for frame in 0..=LIMIT / PAGE_SIZE {
            cuts.insert(frame * PAGE_SIZE);
        }
        let any_usable_byte = cuts.iter().any(|&byte| facts(&entries, &[], byte).usable());

        let mut map = match MemoryMap::from_firmware(entries.iter().copied()) {
            Ok(map) => map,
            Err(error) => {
                prop_assert_eq!(error, MemoryMapError::NoRam);
                prop_assert!(!any_usable_byte);
                return Ok(());
            }
        };
        prop_assert!(any_usable_byte);
        for range in &reserved {
            map.reserve(*range, "test").unwrap();
        }

        let ranges: StdVec<PhysRange> = map.usable_ranges().collect();
        let mut previous_end = 0;
        for range in &ranges {
            prop_assert!(!range.is_empty());
            prop_assert!(range.start.is_multiple_of(PAGE_SIZE));
            prop_assert!(range.end.is_multiple_of(PAGE_SIZE));
            prop_assert!(range.start >= previous_end, "unsorted or overlapping: {:?}", ranges);
            previous_end = range.end;
            for byte in representatives(*range, &cuts) {
                let facts = facts(&entries, &reserved, byte);
                prop_assert!(facts.usable(), "{:#x} in {} is {:?}", byte, range, facts);
            }
        }

        for frame in 0..LIMIT / PAGE_SIZE {
            let frame_range = PhysRange::from_start_size(frame * PAGE_SIZE, PAGE_SIZE);
            let whole_frame_usable = representatives(frame_range, &cuts)
                .into_iter()
                .all(|byte| facts(&entries, &reserved, byte).usable());
            let covered = ranges.iter().any(|range| range.contains(frame_range.start));
            prop_assert_eq!(whole_frame_usable, covered, "frame {:#x}", frame);
        }
    }
}
