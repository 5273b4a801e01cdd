//! How much memory a domain may hold and the memory map it is shown: Xen's
//! `max_pages` and the pseudo-physical E820 a toolstack sets
//! (`XENMEM_set_memory_map`). What it holds now is the frame table's count
//! ([`crate::mm::FrameTable::owned_by`]), which never drifts from the frames.

use heapless::Vec;
use xen_abi::memory::{E820_RAM, E820Entry};
use xen_abi::page_table_entry::PAGE_SIZE;

/// Entries a domain's memory map may have here. Xen allows 1024 (`E820MAX`);
/// a toolstack sets one for a PV guest, and a longer one is refused with
/// -ENOMEM, Xen's answer when it cannot hold a map.
pub const MAX_MAP_ENTRIES: usize = 16;

/// Pages over its memory a domU may hold, as libxl leaves `max_pages`
/// (`LIBXL_MAXMEM_CONSTANT`, 1 MiB).
pub const MAXMEM_SLACK_PAGES: u64 = 256;

/// dom0's limit when none is given: Xen clamps its default to `UINT_MAX`.
pub const DOM0_MAX_PAGES: u64 = u32::MAX as u64;

/// A domain's reservation limit and memory map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    max_pages: u64,
    map: Vec<E820Entry, MAX_MAP_ENTRIES>,
}

impl Reservation {
    /// dom0's: no limit below `UINT_MAX` pages, and no pseudo-physical map
    /// (a PV dom0 reads the machine's).
    pub fn dom0() -> Self {
        Reservation {
            max_pages: DOM0_MAX_PAGES,
            map: Vec::new(),
        }
    }

    /// A domU's as libxl leaves it for `maxmem` pages: one RAM entry of
    /// `maxmem` pages from 0, and up to 1 MiB more pages held.
    pub fn domu(maxmem_pages: u64) -> Self {
        let mut map = Vec::new();
        let ram = E820Entry {
            addr: 0,
            size: maxmem_pages.saturating_mul(PAGE_SIZE),
            kind: E820_RAM,
        };
        let _ = map.push(ram);
        Reservation {
            max_pages: maxmem_pages.saturating_add(MAXMEM_SLACK_PAGES),
            map,
        }
    }

    /// Most frames the domain may own (Xen's `max_pages`).
    pub fn max_pages(&self) -> u64 {
        self.max_pages
    }

    /// Its memory map; empty when none was set.
    pub fn map(&self) -> &[E820Entry] {
        &self.map
    }

    /// Replaces its memory map (empty: none). `false`, and no change, if it
    /// has more entries than fit.
    pub fn set_map(&mut self, entries: &[E820Entry]) -> bool {
        match Vec::from_slice(entries) {
            Ok(map) => {
                self.map = map;
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domu_gets_libxls_limit_and_map_and_dom0_neither() {
        let domu = Reservation::domu(4096);
        assert_eq!(domu.max_pages(), 4096 + 256);
        let size = domu.map()[0].size;
        assert_eq!((domu.map().len(), size), (1, 16 << 20));
        let dom0 = Reservation::dom0();
        assert_eq!((dom0.max_pages(), dom0.map().len()), (4_294_967_295, 0));
    }

    #[test]
    fn a_map_longer_than_fits_is_refused_whole() {
        let mut reservation = Reservation::domu(16);
        let entry = E820Entry::default();
        assert!(!reservation.set_map(&[entry; MAX_MAP_ENTRIES + 1]));
        assert_eq!(reservation.map().len(), 1);
        assert!(reservation.set_map(&[]));
        assert!(reservation.map().is_empty());
    }
}
