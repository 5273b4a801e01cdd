//! The p2m list where the guest asked for it (its INIT_P2M note; Linux asks
//! for 512 GiB), outside the boot region, as Xen's dom0 builder maps it.
//!
//! Xen sizes the boot region as if the list were empty, then, once the
//! domain's first power-of-two block of frames (and its module) are
//! numbered, maps the list page by page. For each page it takes, in this
//! order, any page table the walk to it lacks (an L3, an L2, an L1) and
//! then the page itself; these frames get the next pseudo-physical
//! numbers, from `first_pfn` on, and none of them is mapped in the boot
//! region. start_info names them with `first_p2m_pfn` and `nr_p2m_frames`.
//!
//! Xen maps a whole, aligned 2 MiB (or 1 GiB) of the list with one large
//! page; a guest's own tables here never hold large pages, so 4 KiB pages
//! map it throughout. Lists shorter than 2 MiB (domains under 1 GiB) are
//! numbered exactly as on Xen.

use crate::mm::mfn::PAGE_SIZE;

/// One frame of the mapping, in the order they are numbered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum P2mFrame {
    /// A page table of `level` (3, 2 or 1) for the list's address `va`.
    Table {
        /// 3 for an L3, 2 for an L2, 1 for an L1.
        level: u8,
        /// An address of the list it serves.
        va: u64,
    },
    /// Page `page` of the list.
    Data {
        /// Which page of the list.
        page: u64,
    },
}

/// The list's place and its frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct P2mMapping {
    /// Where the list starts (the note's address).
    pub start: u64,
    /// Where its last entry ends (not rounded to a page).
    pub end: u64,
    /// The first frame number of the mapping's frames.
    pub first_pfn: u64,
    /// How many frames the mapping takes: tables and list pages.
    pub frames: u64,
    /// The boot region `[start, end)`, whose tables the walk shares.
    region: (u64, u64),
}

impl P2mMapping {
    /// The mapping of a list of `entries` at `start`, its frames numbered
    /// from `first_pfn`, beside the boot region `region`.
    pub fn new(start: u64, entries: u64, first_pfn: u64, region: (u64, u64)) -> Option<P2mMapping> {
        let end = start.checked_add(entries.checked_mul(8)?)?;
        let mut mapping = P2mMapping {
            start,
            end,
            first_pfn,
            frames: 0,
            region,
        };
        let mut frames = 0;
        mapping.for_each_frame(|_| frames += 1);
        mapping.frames = frames;
        Some(mapping)
    }

    /// Pages of the list itself.
    pub fn pages(&self) -> u64 {
        (self.end - self.start).div_ceil(PAGE_SIZE)
    }

    /// Whether the list touches the boot region (bounds included, as Xen
    /// checks).
    pub fn overlaps_region(&self) -> bool {
        self.start <= self.region.1 && self.region.0 <= self.end
    }

    /// Calls `each` with every frame of the mapping in numbering order.
    pub fn for_each_frame(&self, mut each: impl FnMut(P2mFrame)) {
        // A table at `level` exists already for `va` if the boot region
        // reaches the span it covers, or an earlier page of the list did.
        let span = |level: u8| 12 + 9 * u32::from(level);
        let in_region = |level: u8, va: u64| {
            let (low, high) = self.region;
            high > low
                && (low >> span(level)) <= (va >> span(level))
                && (va >> span(level)) <= ((high - 1) >> span(level))
        };
        for page in 0..self.pages() {
            let va = self.start + page * PAGE_SIZE;
            for level in [3u8, 2, 1] {
                let first_of_span = page == 0 || (va - PAGE_SIZE) >> span(level) != va >> span(level);
                if first_of_span && !in_region(level, va) {
                    each(P2mFrame::Table { level, va });
                }
            }
            each(P2mFrame::Data { page });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const REGION: (u64, u64) = (0xffff_ffff_8000_0000, 0xffff_ffff_84c0_0000);
    const LINUX: u64 = 0x80_0000_0000;

    fn frames(mapping: &P2mMapping) -> Vec<P2mFrame> {
        let mut all = Vec::new();
        mapping.for_each_frame(|frame| all.push(frame));
        all
    }

    #[test]
    fn linux_at_512_gib_takes_an_l3_an_l2_an_l1_then_its_pages() {
        // 256 MiB: 65536 entries, 128 pages.
        let mapping = P2mMapping::new(LINUX, 65536, 40448, REGION).unwrap();
        assert_eq!((mapping.end, mapping.pages()), (LINUX + 512 * 1024, 128));
        assert_eq!(mapping.frames, 3 + 128);
        let all = frames(&mapping);
        assert_eq!(all[0], P2mFrame::Table { level: 3, va: LINUX });
        assert_eq!(all[1], P2mFrame::Table { level: 2, va: LINUX });
        assert_eq!(all[2], P2mFrame::Table { level: 1, va: LINUX });
        assert_eq!(all[3], P2mFrame::Data { page: 0 });
        assert_eq!(all[130], P2mFrame::Data { page: 127 });
        assert!(!mapping.overlaps_region());
    }

    #[test]
    fn a_list_past_2_mib_takes_another_l1_where_it_crosses() {
        // 1 GiB less a page: a list of 2 MiB less 8 bytes... and one more
        // entry past 2 MiB.
        let mapping = P2mMapping::new(LINUX, 262_145, 0, REGION).unwrap();
        let all = frames(&mapping);
        let tables: Vec<_> = all
            .iter()
            .filter(|frame| matches!(frame, P2mFrame::Table { .. }))
            .collect();
        assert_eq!(tables.len(), 4, "L3, L2 and two L1s: {tables:?}");
        assert_eq!(
            all[3 + 512],
            P2mFrame::Table {
                level: 1,
                va: LINUX + (2 << 20)
            }
        );
        assert_eq!(mapping.frames, 4 + 513);
    }

    #[test]
    fn a_list_beside_the_region_shares_its_tables_and_touching_it_is_overlap() {
        // Just after the region: its L3 and L2 serve, a new L1 does not.
        let start = REGION.1 + PAGE_SIZE;
        let mapping = P2mMapping::new(start, 512, 0, REGION).unwrap();
        assert_eq!(
            frames(&mapping),
            [P2mFrame::Table { level: 1, va: start }, P2mFrame::Data { page: 0 }]
        );
        assert!(!mapping.overlaps_region());
        let touching = P2mMapping::new(REGION.1, 512, 0, REGION).unwrap();
        assert!(touching.overlaps_region(), "bounds count, as Xen checks");
        assert!(P2mMapping::new(u64::MAX - 8, 2, 0, REGION).is_none(), "past the top");
    }
}
