//! A forged page-table tree: copies of the guest's own L4, L3, L2 and L1
//! along the path to one page, with that page mapped onto a machine frame
//! the guest does not own. Never pinned, so never validated: it only ever
//! becomes a live table if the hypervisor lets the CPU walk a frame the
//! guest may rewrite.

use guest_sdk::page_table::{Frame, Level, PageTableError, PageTableManager, TABLE_FLAGS, XenMmu, index};

type Manager = PageTableManager<XenMmu>;

/// Entries in a table.
const ENTRIES: u64 = 512;
/// The frame the forged tree aims at, if the guest does not own it: 1 MiB,
/// below any frame a domain builder hands out.
const FIRST_CANDIDATE: u64 = 0x100;

/// The first machine frame from [`FIRST_CANDIDATE`] on that is not among
/// the guest's `nr_pages` frames (its p2m list says which are).
pub fn foreign_frame(tables: &Manager, nr_pages: u64) -> u64 {
    let owned = |mfn: u64| (0..nr_pages).any(|pfn| tables.frame(pfn).mfn == mfn);
    (FIRST_CANDIDATE..).find(|&mfn| !owned(mfn)).unwrap_or(FIRST_CANDIDATE)
}

/// Builds, in four frames from the pool, a copy of the tree under `root`
/// in which `va`'s page is mapped writable onto `target`, and everything
/// else (the hypervisor's slots too) as under `root`, so that a CPU walking
/// it runs on. Returns the forged L4.
pub fn forge(tables: &mut Manager, root: u64, va: u64, target: u64) -> Result<Frame, PageTableError> {
    let path = tables.table_path(root, va)?.ok_or(PageTableError::NotMapped(va))?;
    let copies = [
        tables.allocate_frame()?,
        tables.allocate_frame()?,
        tables.allocate_frame()?,
        tables.allocate_frame()?,
    ];
    let levels = [Level::L4, Level::L3, Level::L2, Level::L1];
    for (depth, level) in levels.into_iter().enumerate() {
        // Each forged table points at the next forged one; the L1 at the target.
        let next = copies.get(depth + 1).map_or(target, |copy| copy.mfn);
        let slot = index(va, level);
        for entry in 0..ENTRIES {
            let value = if entry == slot {
                (next << 12) | TABLE_FLAGS
            } else {
                tables.entry(path[depth], entry)?
            };
            tables.write_mapped(copies[depth].va + entry * 8, value)?;
        }
    }
    Ok(copies[0])
}

/// Whether table frame `mfn` now holds the words of the pool frame `frame`.
pub fn holds_copy_of(tables: &mut Manager, mfn: u64, frame: &Frame) -> Result<bool, PageTableError> {
    for entry in 0..ENTRIES {
        if tables.entry(mfn, entry)? != tables.read_mapped(frame.va + entry * 8)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether every entry of table frame `mfn` is zero.
pub fn is_cleared(tables: &Manager, mfn: u64) -> Result<bool, PageTableError> {
    for entry in 0..ENTRIES {
        if tables.entry(mfn, entry)? != 0 {
            return Ok(false);
        }
    }
    Ok(true)
}
