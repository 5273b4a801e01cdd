//! One region of the resolved map: [`MemoryRegion`]. A file of its own so that the
//! carving of usable ranges (`usable_ranges`) reads regions without importing
//! `memory_map.rs`, which hands them out.

use crate::boot::memory_map::region_kind::RegionKind;
use crate::mm::PhysRange;

/// One region of the resolved map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRegion {
    /// The addresses the region covers (never empty).
    pub range: PhysRange,
    /// What the firmware says they hold.
    pub kind: RegionKind,
}
