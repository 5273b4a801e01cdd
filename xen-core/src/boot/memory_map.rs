//! The physical memory map: the firmware's regions plus the hypervisor's reservations.
//!
//! Firmware maps are untidy: entries come unsorted, may overlap, may be empty (qboot
//! reports a bogus `0-0` entry of type 0) and may carry types newer than we know.
//! [`MemoryMap::from_firmware`] turns them into sorted, disjoint regions. Where
//! entries overlap, the kind with the highest Xen type number wins, as in Linux's
//! e820 sanitiser: RAM has the lowest number, so bytes that any entry calls
//! something else are never handed out as RAM. The hypervisor then records what it
//! must keep for itself (its image, the boot bundle, the start-info page, the low
//! firmware area) with [`MemoryMap::reserve`], and [`MemoryMap::usable_ranges`]
//! yields what is left for the frame allocator.

use crate::mm::PhysRange;
use crate::mm::mfn::PAGE_SIZE;
use core::fmt;
use heapless::Vec;
use xen_abi::hvm_start_info::{
    HvmMemmapTableEntry, XEN_HVM_MEMMAP_TYPE_ACPI, XEN_HVM_MEMMAP_TYPE_DISABLED, XEN_HVM_MEMMAP_TYPE_NVS,
    XEN_HVM_MEMMAP_TYPE_PMEM, XEN_HVM_MEMMAP_TYPE_RAM, XEN_HVM_MEMMAP_TYPE_RESERVED, XEN_HVM_MEMMAP_TYPE_UNUSABLE,
};

/// Most regions a map holds, both as firmware entries and after resolving overlaps.
pub const MAX_REGIONS: usize = 128;
/// Most reservations a map records.
pub const MAX_RESERVATIONS: usize = 32;

/// What a firmware region holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegionKind {
    /// Usable RAM.
    Ram,
    /// Reserved by the firmware or the machine.
    Reserved,
    /// ACPI tables, reclaimable once read.
    Acpi,
    /// ACPI non-volatile storage.
    Nvs,
    /// Memory with detected errors.
    Unusable,
    /// Disabled memory.
    Disabled,
    /// Persistent memory.
    Pmem,
}

impl RegionKind {
    /// The kind for a `XEN_HVM_MEMMAP_TYPE_*` value; `None` for types we do not know.
    pub const fn from_xen(kind: u32) -> Option<RegionKind> {
        match kind {
            XEN_HVM_MEMMAP_TYPE_RAM => Some(RegionKind::Ram),
            XEN_HVM_MEMMAP_TYPE_RESERVED => Some(RegionKind::Reserved),
            XEN_HVM_MEMMAP_TYPE_ACPI => Some(RegionKind::Acpi),
            XEN_HVM_MEMMAP_TYPE_NVS => Some(RegionKind::Nvs),
            XEN_HVM_MEMMAP_TYPE_UNUSABLE => Some(RegionKind::Unusable),
            XEN_HVM_MEMMAP_TYPE_DISABLED => Some(RegionKind::Disabled),
            XEN_HVM_MEMMAP_TYPE_PMEM => Some(RegionKind::Pmem),
            _ => None,
        }
    }

    /// The `XEN_HVM_MEMMAP_TYPE_*` value of this kind.
    pub const fn to_xen(self) -> u32 {
        match self {
            RegionKind::Ram => XEN_HVM_MEMMAP_TYPE_RAM,
            RegionKind::Reserved => XEN_HVM_MEMMAP_TYPE_RESERVED,
            RegionKind::Acpi => XEN_HVM_MEMMAP_TYPE_ACPI,
            RegionKind::Nvs => XEN_HVM_MEMMAP_TYPE_NVS,
            RegionKind::Unusable => XEN_HVM_MEMMAP_TYPE_UNUSABLE,
            RegionKind::Disabled => XEN_HVM_MEMMAP_TYPE_DISABLED,
            RegionKind::Pmem => XEN_HVM_MEMMAP_TYPE_PMEM,
        }
    }

    /// A short name for boot logs.
    pub const fn name(self) -> &'static str {
        match self {
            RegionKind::Ram => "RAM",
            RegionKind::Reserved => "reserved",
            RegionKind::Acpi => "ACPI data",
            RegionKind::Nvs => "ACPI NVS",
            RegionKind::Unusable => "unusable",
            RegionKind::Disabled => "disabled",
            RegionKind::Pmem => "persistent",
        }
    }
}

/// One region of the resolved map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRegion {
    /// The addresses the region covers (never empty).
    pub range: PhysRange,
    /// What the firmware says they hold.
    pub kind: RegionKind,
}

/// Memory the hypervisor keeps for itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// The reserved addresses (never empty).
    pub range: PhysRange,
    /// What lives there, for boot logs.
    pub what: &'static str,
}

/// Why a memory map could not be built or extended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryMapError {
    /// The firmware map has more than [`MAX_REGIONS`] entries or resolves into more.
    TooManyRegions,
    /// No byte of the firmware map is RAM that no other entry claims.
    NoRam,
    /// [`MAX_RESERVATIONS`] are recorded already; `what` did not fit.
    TooManyReservations {
        /// What the refused reservation was for.
        what: &'static str,
    },
}

impl fmt::Display for MemoryMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryMapError::TooManyRegions => {
                write!(f, "the firmware map has more than {MAX_REGIONS} regions")
            }
            MemoryMapError::NoRam => write!(f, "the firmware map has no RAM"),
            MemoryMapError::TooManyReservations { what } => {
                write!(
                    f,
                    "no room to reserve {what}: all {MAX_RESERVATIONS} reservations are taken"
                )
            }
        }
    }
}

/// The resolved firmware map and the hypervisor's reservations.
#[derive(Clone, Debug)]
pub struct MemoryMap {
    regions: Vec<MemoryRegion, MAX_REGIONS>,
    reservations: Vec<Reservation, MAX_RESERVATIONS>,
}

impl MemoryMap {
    /// Builds the map from the loader's entries.
    ///
    /// Zero-sized entries are dropped and ranges running past the top of the address
    /// space are clamped to it. Entries of unknown type are kept as
    /// [`RegionKind::Reserved`], as ACPI tells operating systems to do, so that they
    /// still mask any RAM entry they overlap.
    pub fn from_firmware(entries: impl IntoIterator<Item = HvmMemmapTableEntry>) -> Result<MemoryMap, MemoryMapError> {
        let mut firmware: Vec<MemoryRegion, MAX_REGIONS> = Vec::new();
        for entry in entries {
            let range = PhysRange::from_start_size(entry.addr, entry.size);
            if range.is_empty() {
                continue;
            }
            let kind = RegionKind::from_xen(entry.kind).unwrap_or(RegionKind::Reserved);
            firmware
                .push(MemoryRegion { range, kind })
                .map_err(|_| MemoryMapError::TooManyRegions)?;
        }
        let regions = resolve_overlaps(&firmware)?;
        if !regions.iter().any(|region| region.kind == RegionKind::Ram) {
            return Err(MemoryMapError::NoRam);
        }
        Ok(MemoryMap {
            regions,
            reservations: Vec::new(),
        })
    }

    /// Records that the hypervisor keeps `range` for `what`. Reservations may overlap
    /// each other and non-RAM regions; an empty range reserves nothing and is not
    /// recorded.
    pub fn reserve(&mut self, range: PhysRange, what: &'static str) -> Result<(), MemoryMapError> {
        if range.is_empty() {
            return Ok(());
        }
        self.reservations
            .push(Reservation { range, what })
            .map_err(|_| MemoryMapError::TooManyReservations { what })
    }

    /// The resolved regions: sorted, disjoint, adjacent regions of one kind merged.
    pub fn regions(&self) -> impl Iterator<Item = MemoryRegion> + '_ {
        self.regions.iter().copied()
    }

    /// The reservations in the order they were made.
    pub fn reservations(&self) -> impl Iterator<Item = Reservation> + '_ {
        self.reservations.iter().copied()
    }

    /// The RAM no reservation touches, each range shrunk inward to whole frames;
    /// sorted, disjoint and never empty.
    pub fn usable_ranges(&self) -> UsableRanges<'_> {
        UsableRanges {
            map: self,
            region: 0,
            cursor: 0,
        }
    }

    /// Bytes of RAM in the firmware map, reservations included.
    pub fn total_ram(&self) -> u64 {
        self.ram_regions()
            .fold(0, |total, region| total.saturating_add(region.range.len()))
    }

    /// The first address above the last RAM region: how far the direct map must reach.
    pub fn highest_ram_address(&self) -> u64 {
        self.ram_regions().last().map_or(0, |region| region.range.end)
    }

    fn ram_regions(&self) -> impl Iterator<Item = &MemoryRegion> {
        self.regions.iter().filter(|region| region.kind == RegionKind::Ram)
    }

    /// The first address at or after `address` that no reservation holds.
    fn first_unreserved(&self, mut address: u64) -> u64 {
        // Each pass either moves `address` strictly up or ends, so this terminates;
        // several passes are needed when reservations chain into one another.
        loop {
            let mut moved = false;
            for reservation in &self.reservations {
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

/// The iterator returned by [`MemoryMap::usable_ranges`].
#[derive(Clone, Debug)]
pub struct UsableRanges<'m> {
    map: &'m MemoryMap,
    /// Index of the region being carved.
    region: usize,
    /// Everything below this address has been yielded or skipped.
    cursor: u64,
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

/// Cuts the firmware entries at every entry boundary, gives each piece the
/// highest-numbered kind among the entries covering it, and merges neighbours of one
/// kind. Pieces no entry covers are holes and stay out of the map.
fn resolve_overlaps(firmware: &[MemoryRegion]) -> Result<Vec<MemoryRegion, MAX_REGIONS>, MemoryMapError> {
    let mut bounds: Vec<u64, { 2 * MAX_REGIONS }> = Vec::new();
    for region in firmware {
        bounds
            .push(region.range.start)
            .map_err(|_| MemoryMapError::TooManyRegions)?;
        bounds
            .push(region.range.end)
            .map_err(|_| MemoryMapError::TooManyRegions)?;
    }
    bounds.sort_unstable();
    let mut regions: Vec<MemoryRegion, MAX_REGIONS> = Vec::new();
    for pair in bounds.windows(2) {
        let &[start, end] = pair else { continue };
        if start == end {
            continue;
        }
        // Every entry either covers the whole piece or none of it, since the piece
        // lies between two consecutive boundaries.
        let Some(kind) = firmware
            .iter()
            .filter(|region| region.range.contains(start))
            .map(|region| region.kind)
            .max_by_key(|kind| kind.to_xen())
        else {
            continue;
        };
        if let Some(last) = regions.last_mut()
            && last.kind == kind
            && last.range.end == start
        {
            last.range.end = end;
            continue;
        }
        regions
            .push(MemoryRegion {
                range: PhysRange::new(start, end),
                kind,
            })
            .map_err(|_| MemoryMapError::TooManyRegions)?;
    }
    Ok(regions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use std::string::ToString;
    use std::vec::Vec as StdVec;

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
}
