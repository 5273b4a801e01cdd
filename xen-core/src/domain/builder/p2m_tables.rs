//! The tables mapping a guest's p2m list where it asked (INIT_P2M): which
//! of the mapping's frames they are, and filling them in.

use crate::arch::PhysicalMemory;
use crate::domain::p2m_mapping::{P2mFrame, P2mMapping};
use crate::mm::Mfn;
use crate::mm::mfn::PAGE_SIZE;
use crate::mm::pte_rules::{ADDRESS_MASK, PRESENT};
use heapless::Vec;

/// A table of the p2m mapping: its place among the mapping's frames.
pub(super) struct TablePosition {
    pub(super) position: u64,
}

/// Tables the p2m mapping may need: for the largest list, an L3, two L2s
/// and two L1s at most, with room to spare.
pub(super) const MAX_P2M_TABLES: usize = 8;

/// The places of the p2m mapping's tables among its frames; `None` if
/// there are more than [`MAX_P2M_TABLES`].
pub(super) fn table_positions(mapping: &P2mMapping) -> Option<Vec<TablePosition, MAX_P2M_TABLES>> {
    let mut tables = Vec::new();
    let (mut position, mut full) = (0, false);
    mapping.for_each_frame(|frame| {
        if let P2mFrame::Table { .. } = frame {
            full |= tables.push(TablePosition { position }).is_err();
        }
        position += 1;
    });
    (!full).then_some(tables)
}

/// Where the p2m list's frames are and how its entries are written.
pub(super) struct P2mFrames<'f> {
    /// The tables the builder took for the mapping, in the order it took them.
    pub(super) tables: &'f [Mfn],
    /// The list's pages.
    pub(super) pages: &'f [Mfn],
    /// Flags of an upper-level entry.
    pub(super) table_flags: u64,
    /// Flags of a leaf entry.
    pub(super) leaf_flags: u64,
}

/// Maps the p2m list where the guest asked, under `l4`.
pub(super) fn map_p2m(memory: &mut impl PhysicalMemory, mapping: &P2mMapping, l4: Mfn, frames: &P2mFrames<'_>) {
    let mut fresh = frames.tables.iter().copied();
    for page in 0..mapping.pages() {
        let va = mapping.start + page * PAGE_SIZE;
        let mut table = l4;
        for level in [4u32, 3, 2] {
            let slot = table.address() + ((va >> (12 + 9 * (level - 1))) & 511) * 8;
            let entry = memory.read_u64(slot);
            table = if entry & PRESENT != 0 {
                Mfn::containing(entry & ADDRESS_MASK)
            } else {
                let Some(next) = fresh.next() else { return };
                memory.write_u64(slot, next.address() | frames.table_flags);
                next
            };
        }
        let Some(mfn) = frames.pages.get(page as usize) else {
            return;
        };
        memory.write_u64(
            table.address() + ((va >> 12) & 511) * 8,
            mfn.address() | frames.leaf_flags,
        );
    }
}
