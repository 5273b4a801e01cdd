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
//!
//! What a region holds is in `region_kind`, a region in `memory_region`, a
//! reservation in `reservation`, how many of each a map holds in `limits`, the
//! carving of usable ranges in `usable_ranges`, and the reasons for refusing a map
//! in `memory_map_error`; none of them imports from this file.

use crate::mm::PhysRange;
use heapless::Vec;
use xen_abi::hvm_start_info::HvmMemmapTableEntry;

mod limits;
mod memory_map_error;
mod memory_region;
mod region_kind;
mod reservation;
mod usable_ranges;

pub use limits::{MAX_REGIONS, MAX_RESERVATIONS};
pub use memory_map_error::MemoryMapError;
pub use memory_region::MemoryRegion;
pub use region_kind::RegionKind;
pub use reservation::Reservation;
pub use usable_ranges::UsableRanges;

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

    /// The map as E820 entries (`XENMEM_machine_memory_map`): each region
    /// with its firmware type, the hypervisor's own memory still RAM, as
    /// Xen reports it.
    pub fn e820_entries(&self) -> impl Iterator<Item = xen_abi::memory::E820Entry> + '_ {
        self.regions.iter().map(|region| xen_abi::memory::E820Entry {
            addr: region.range.start,
            size: region.range.len(),
            kind: region.kind.to_xen(),
        })
    }

    /// The reservations in the order they were made.
    pub fn reservations(&self) -> impl Iterator<Item = Reservation> + '_ {
        self.reservations.iter().copied()
    }

    /// The RAM no reservation touches, each range shrunk inward to whole frames;
    /// sorted, disjoint and never empty.
    pub fn usable_ranges(&self) -> UsableRanges<'_> {
        UsableRanges::new(&self.regions, &self.reservations)
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
mod tests;
