//! The balloon driver: a guest gives memory back to the hypervisor, and takes
//! more, to follow the target its toolstack writes in xenstore
//! (`memory/target`, in KiB), as Linux's `drivers/xen/balloon.c` does.
//!
//! The pseudo-physical frames it manages are `[first, end)`: from the end of
//! what the guest uses itself up to its maximum (`memory/static-max`). Those
//! backed by a machine frame always form the prefix `[first, top)`, so the
//! balloon gives back from the top down and fills from the top up. Frames
//! `[nr_pages, end)` start ballooned out, as Linux counts them.
//!
//! What a step does with the hypervisor and the guest's p2m goes through
//! [`BalloonMemory`]: [`GuestMemory`] is the real one, over a guest's
//! [`PageTableManager`]; the tests use a fake.

use crate::XenError;
use crate::memory::{decrease_reservation, populate_physmap};
use crate::page_table::{Frame, MmuBackend, PageTableError, PageTableManager};
use crate::start_info::StartInfo;
use xen_abi::page_table_entry::PAGE_SIZE;

/// Frames given back or taken per step: one `memory_op` list. Xen takes
/// longer lists through continuations; a step this size lets the guest
/// read a new target in between.
pub const BATCH: usize = 256;

/// A p2m entry for a frame with no machine frame behind it (Linux's
/// `INVALID_P2M_ENTRY`).
pub const INVALID_P2M_ENTRY: u64 = u64::MAX;

/// The p2m and the hypervisor, as the balloon uses them.
pub trait BalloonMemory {
    /// The machine frame behind `pfn`, if any.
    fn mfn(&mut self, pfn: u64) -> Option<u64>;
    /// Records the machine frame behind `pfn` (or none).
    fn set_mfn(&mut self, pfn: u64, mfn: Option<u64>);
    /// `decrease_reservation` of the machine frames `mfns`: how many went,
    /// the first ones in order.
    fn give_back(&mut self, mfns: &mut [u64]) -> Result<usize, XenError>;
    /// `populate_physmap` at the pseudo-physical frames `pfns`, each
    /// replaced by its new machine frame: how many came, the first ones.
    fn populate(&mut self, pfns: &mut [u64]) -> Result<usize, XenError>;
}

/// What a step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The target is met: nothing to do.
    Reached,
    /// Frames were given back.
    Gave(u64),
    /// Frames were taken.
    Took(u64),
    /// The target is out of the balloon's range (below what the guest
    /// uses itself, or above its maximum): as near as it can get already.
    Limited,
    /// The hypervisor had fewer free frames than asked: this many were
    /// taken. Try again later, as Linux's balloon does.
    Short(u64),
}

/// The balloon's state: see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balloon {
    first: u64,
    top: u64,
    end: u64,
}

impl Balloon {
    /// A balloon over `[first, end)`, frames `[first, nr_pages)` backed.
    pub fn new(first: u64, nr_pages: u64, end: u64) -> Balloon {
        let top = nr_pages.clamp(first, end.max(first));
        Balloon {
            first,
            top,
            end: end.max(top),
        }
    }

    /// Backed frames it manages.
    pub fn backed(&self) -> core::ops::Range<u64> {
        self.first..self.top
    }

    /// Frames ballooned out.
    pub fn out(&self) -> u64 {
        self.end - self.top
    }

    /// One step toward `target` frames held in all, from `held` now (what
    /// `current_reservation` says).
    pub fn step(&mut self, memory: &mut impl BalloonMemory, held: u64, target: u64) -> Result<Step, XenError> {
        let mut list = [0u64; BATCH];
        if held > target {
            let count = (held - target).min(BATCH as u64).min(self.top - self.first);
            if count == 0 {
                return Ok(Step::Limited);
            }
            // From the top down: the first `gone` in the list are the ones
            // that went, and the backed frames stay a prefix.
            let mut listed = 0;
            for pfn in (self.top - count..self.top).rev() {
                let Some(mfn) = memory.mfn(pfn) else {
                    return Err(XenError {
                        code: xen_abi::errno::Errno::EINVAL.as_return(),
                    });
                };
                list[listed] = mfn;
                listed += 1;
            }
            let gone = memory.give_back(&mut list[..listed])?.min(listed) as u64;
            for pfn in self.top - gone..self.top {
                memory.set_mfn(pfn, None);
            }
            self.top -= gone;
            return Ok(Step::Gave(gone));
        }
        if held < target {
            let count = (target - held).min(BATCH as u64).min(self.end - self.top);
            if count == 0 {
                return Ok(Step::Limited);
            }
            for (slot, pfn) in list.iter_mut().zip(self.top..) {
                *slot = pfn;
            }
            let count = count as usize;
            let came = memory.populate(&mut list[..count])?.min(count);
            for (index, &mfn) in list[..came].iter().enumerate() {
                memory.set_mfn(self.top + index as u64, Some(mfn));
            }
            self.top += came as u64;
            return Ok(if came < count {
                Step::Short(came as u64)
            } else {
                Step::Took(came as u64)
            });
        }
        Ok(Step::Reached)
    }
}

/// Most frames a [`GuestMemory`] records beyond the boot p2m list: each
/// frame of its table holds 512.
pub const MAX_TABLE_FRAMES: usize = 16;

/// The real [`BalloonMemory`] of a guest: the hypervisor's `memory_op`, the
/// boot p2m list (`start_info.mfn_list`) for frames below `nr_pages`, and
/// beyond it a table in frames of the page-table manager's pool.
pub struct GuestMemory<'t, B: MmuBackend> {
    tables: &'t mut PageTableManager<B>,
    p2m: u64,
    /// Entries the boot p2m list has room for: whole pages of it.
    p2m_entries: u64,
    table: heapless::Vec<Frame, MAX_TABLE_FRAMES>,
}

impl<'t, B: MmuBackend> GuestMemory<'t, B> {
    /// The memory of the guest `info` describes, able to record frames up
    /// to `end` (taking frames for the table from `tables`' pool).
    pub fn new(tables: &'t mut PageTableManager<B>, info: &StartInfo, end: u64) -> Result<Self, PageTableError> {
        let p2m_entries = info.nr_pages.next_multiple_of(PAGE_SIZE / 8);
        let needed = end.saturating_sub(p2m_entries).div_ceil(PAGE_SIZE / 8);
        let mut table = heapless::Vec::new();
        for _ in 0..needed {
            let frame = tables.allocate_frame()?;
            for word in 0..PAGE_SIZE / 8 {
                tables.backend().write_u64(frame.va + word * 8, INVALID_P2M_ENTRY);
            }
            table.push(frame).map_err(|_| PageTableError::OutOfFrames)?;
        }
        Ok(GuestMemory {
            tables,
            p2m: info.mfn_list,
            p2m_entries,
            table,
        })
    }

    /// The page-table manager, for mapping the frames the balloon took.
    pub fn tables(&mut self) -> &mut PageTableManager<B> {
        self.tables
    }

    /// Where `pfn`'s entry lives, if anywhere.
    fn entry(&self, pfn: u64) -> Option<u64> {
        if pfn < self.p2m_entries {
            return Some(self.p2m + pfn * 8);
        }
        let index = pfn - self.p2m_entries;
        let frame = self.table.get((index / (PAGE_SIZE / 8)) as usize)?;
        Some(frame.va + index % (PAGE_SIZE / 8) * 8)
    }
}

impl<B: MmuBackend> BalloonMemory for GuestMemory<'_, B> {
    fn mfn(&mut self, pfn: u64) -> Option<u64> {
        let entry = self.entry(pfn)?;
        let mfn = self.tables.backend().read_u64(entry);
        (mfn != INVALID_P2M_ENTRY).then_some(mfn)
    }

    fn set_mfn(&mut self, pfn: u64, mfn: Option<u64>) {
        if let Some(entry) = self.entry(pfn) {
            self.tables.backend().write_u64(entry, mfn.unwrap_or(INVALID_P2M_ENTRY));
        }
    }

    fn give_back(&mut self, mfns: &mut [u64]) -> Result<usize, XenError> {
        decrease_reservation(mfns, 0)
    }

    fn populate(&mut self, pfns: &mut [u64]) -> Result<usize, XenError> {
        populate_physmap(pfns, 0, 0)
    }
}

#[cfg(test)]
mod tests;
