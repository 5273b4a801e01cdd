//! The machine's memory map as the firmware gave it, kept for dom0
//! (`XENMEM_machine_memory_map`).

use heapless::Vec;
use spin::Once;
use xen_abi::memory::E820Entry;
use xen_core::boot::memory_map::{MAX_REGIONS, MemoryMap};

static MAP: Once<Vec<E820Entry, MAX_REGIONS>> = Once::new();

/// Keeps `map`'s regions; once, at boot.
pub fn record(map: &MemoryMap) {
    MAP.call_once(|| map.e820_entries().collect());
}

/// Entry `index`, if there is one.
pub fn entry(index: usize) -> Option<E820Entry> {
    MAP.get().and_then(|map| map.get(index).copied())
}
