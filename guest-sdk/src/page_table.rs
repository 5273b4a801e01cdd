//! A page-table manager: maps and unmaps pages and page tables through
//! batched `mmu_update` (queue, then flush in one hypercall), pins new
//! tables, switches address spaces, and allocates guest frames.
//!
//! A PV guest never writes its page tables directly: they are mapped
//! read-only and every change goes through the hypervisor, which validates
//! it (`mmu_update` and `mmuext_op`, `xen.h`). The manager reads tables through their read-only
//! mappings, finding a table's virtual address through the M2P and the
//! bootstrap mapping (pseudo-physical page N at `virt_base + N * 4096`).
//!
//! Frames come from the slack the domain builder leaves mapped after the
//! boot stack (at least 512 KiB, `xen.h`'s start-of-day rules): mapped, so the manager
//! can zero a frame before it becomes a table, and unused.
//!
//! The logic is portable over [`MmuBackend`]; the SDK's bare-metal backend
//! makes the hypercalls and reads memory, host tests use a fake.

mod backend;
#[cfg(test)]
pub(crate) mod tests;

#[cfg(target_os = "none")]
pub use crate::arch::page_table::{XenMmu, boot_manager};
pub use backend::MmuBackend;
pub use xen_abi::page_table_entry::{ACCESSED, ADDRESS_MASK, DIRTY, PAGE_SIZE, PRESENT, RW, USER};

use crate::XenError;
use heapless::Vec;
use xen_abi::mmu::{
    HYPERVISOR_L4_SLOTS, MACH2PHYS_VIRT_START, MMU_NORMAL_PT_UPDATE, MMUEXT_NEW_BASEPTR, MMUEXT_NEW_USER_BASEPTR,
    MMUEXT_PIN_L1_TABLE, MMUEXT_UNPIN_TABLE, MmuUpdate, MmuextOp, UVMF_INVLPG,
};
use xen_abi::page_table_entry::ENTRIES_PER_TABLE;
use xen_abi::start_info::{BOOTSTRAP_ALIGN, BOOTSTRAP_MIN_PADDING, StartInfo};

/// Flags for entries that point at lower tables, as Xen's builder writes them.
pub const TABLE_FLAGS: u64 = PRESENT | RW | USER | ACCESSED | DIRTY;
/// Pages of slack the builder guarantees after the boot stack.
const SLACK_PAGES: u64 = BOOTSTRAP_MIN_PADDING / PAGE_SIZE;
/// Updates queued before the manager flushes on its own.
pub const QUEUE_LENGTH: usize = 64;

/// A page-table level (1 maps pages, 4 is the root).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Maps 4 KiB pages.
    L1 = 1,
    /// Points at L1s.
    L2 = 2,
    /// Points at L2s.
    L3 = 3,
    /// The root: what CR3 holds.
    L4 = 4,
}

/// A guest frame: its pseudo-physical and machine numbers and where the
/// bootstrap mapping shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Pseudo-physical frame number.
    pub pfn: u64,
    /// Machine frame number (what page-table entries hold).
    pub mfn: u64,
    /// Virtual address in the bootstrap mapping.
    pub va: u64,
}

/// Why a manager operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageTableError {
    /// The hypervisor refused a hypercall.
    Xen(XenError),
    /// The frame pool is used up.
    OutOfFrames,
    /// A table on the way has no mapping the manager can read it through.
    UnreadableTable(u64),
    /// The address is not canonical or lies in the hypervisor's slots.
    BadAddress(u64),
    /// The address is not mapped (writable, for a write) to a frame the
    /// manager handed out.
    NotMapped(u64),
}

impl From<XenError> for PageTableError {
    fn from(error: XenError) -> Self {
        PageTableError::Xen(error)
    }
}

impl core::fmt::Display for PageTableError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PageTableError::Xen(error) => write!(f, "hypercall refused: {error}"),
            PageTableError::OutOfFrames => write!(f, "no free frame left in the pool"),
            PageTableError::UnreadableTable(mfn) => write!(f, "table mfn {mfn:#x} is not readable"),
            PageTableError::BadAddress(va) => write!(f, "{va:#x} is not a guest address"),
            PageTableError::NotMapped(va) => write!(f, "{va:#x} is not mapped to a pool frame"),
        }
    }
}

/// The page-table manager.
pub struct PageTableManager<B: MmuBackend> {
    backend: B,
    virt_base: u64,
    /// Virtual address of the p2m list (entry N = MFN of pfn N).
    p2m: u64,
    /// The first pfn of the pool, the next free one, and one past the last.
    first_pfn: u64,
    next_pfn: u64,
    end_pfn: u64,
    queue: Vec<MmuUpdate, QUEUE_LENGTH>,
    /// The L4 in CR3, as far as the manager knows.
    current_root: u64,
    /// Hypercalls made, for callers that count them.
    hypercalls: u64,
    /// Pages of the domain, all mapped from `virt_base` at boot.
    nr_pages: u64,
}

impl<B: MmuBackend> PageTableManager<B> {
    /// A manager for the domain `info` describes, linked at `virt_base`,
    /// taking frames from the slack after the boot stack.
    pub fn new(backend: B, info: &StartInfo, virt_base: u64) -> Self {
        let first_table = (info.pt_base - virt_base) / PAGE_SIZE;
        // The boot stack page follows the page tables.
        let next_pfn = first_table + info.nr_pt_frames + 1;
        let current_root = backend.read_u64(info.mfn_list + first_table * 8);
        PageTableManager {
            backend,
            virt_base,
            p2m: info.mfn_list,
            first_pfn: next_pfn,
            next_pfn,
            end_pfn: (next_pfn + SLACK_PAGES).min(info.nr_pages),
            queue: Vec::new(),
            current_root,
            hypercalls: 0,
            nr_pages: info.nr_pages,
        }
    }

    /// The backend, for callers that make hypercalls of their own.
    pub fn backend(&mut self) -> &mut B {
        &mut self.backend
    }

    /// Hypercalls the manager has made so far.
    pub fn hypercalls(&self) -> u64 {
        self.hypercalls
    }

    /// Frames left in the pool.
    pub fn free_frames(&self) -> u64 {
        self.end_pfn - self.next_pfn
    }

    /// Takes a frame from the pool; it is mapped writable at `va`.
    pub fn allocate_frame(&mut self) -> Result<Frame, PageTableError> {
        if self.next_pfn >= self.end_pfn {
            return Err(PageTableError::OutOfFrames);
        }
        let pfn = self.next_pfn;
        self.next_pfn += 1;
        Ok(self.frame(pfn))
    }

    /// Frame `pfn` of the bootstrap mapping.
    pub fn frame(&self, pfn: u64) -> Frame {
        Frame {
            pfn,
            mfn: self.backend.read_u64(self.p2m + pfn * 8),
            va: self.virt_base + pfn * PAGE_SIZE,
        }
    }

    /// The machine frame behind `va` in the bootstrap mapping (what another
    /// domain is told when we grant it the page), or `None` outside it.
    pub fn mfn_of(&self, va: u64) -> Option<u64> {
        let pfn = va.checked_sub(self.virt_base)? / PAGE_SIZE;
        (pfn < self.nr_pages).then(|| self.frame(pfn).mfn)
    }

    /// One past the last frame of the bootstrap region the builder mapped:
    /// by `xen.h`'s rule, the end of the stack page after the page tables,
    /// with at least 512 KiB more, rounded up to 4 MiB. Frames from here on
    /// are not in the kernel's mappings (a balloon may give them back).
    pub fn boot_region_end_pfn(&self, info: &StartInfo) -> u64 {
        let stack_end = info.pt_base + (info.nr_pt_frames + 1) * PAGE_SIZE;
        let end = (stack_end + BOOTSTRAP_MIN_PADDING).next_multiple_of(BOOTSTRAP_ALIGN);
        (end - self.virt_base) / PAGE_SIZE
    }

    /// The kernel's current root: the L4 the builder left at `pt_base`.
    pub fn boot_root(&self, info: &StartInfo) -> Frame {
        self.frame((info.pt_base - self.virt_base) / PAGE_SIZE)
    }

    /// A zeroed frame ready to become a page table: written empty through
    /// its mapping, then mapped read-only, as every table must be.
    pub fn new_table(&mut self) -> Result<Frame, PageTableError> {
        let frame = self.allocate_frame()?;
        for word in 0..PAGE_SIZE / 8 {
            self.backend.write_u64(frame.va + word * 8, 0);
        }
        self.remap(frame.va, frame.mfn, PRESENT | ACCESSED)?;
        Ok(frame)
    }

    /// Points the bootstrap-mapped `va` at `mfn` with `flags` through
    /// `update_va_mapping`, flushing that page.
    pub fn remap(&mut self, va: u64, mfn: u64, flags: u64) -> Result<(), PageTableError> {
        self.hypercalls += 1;
        self.backend.update_va_mapping(va, (mfn << 12) | flags, UVMF_INVLPG)?;
        Ok(())
    }

    /// Maps `va` to machine frame `mfn` with `flags` in the address space
    /// whose root is `root`, creating the tables on the way. The leaf update
    /// is queued: it takes effect at the next [`flush`](Self::flush).
    pub fn map(&mut self, root: u64, va: u64, mfn: u64, flags: u64) -> Result<(), PageTableError> {
        let l1 = self.walk(root, va, true)?.ok_or(PageTableError::BadAddress(va))?;
        self.queue(l1 + index(va, Level::L1) * 8, (mfn << 12) | flags)
    }

    /// Unmaps `va` in the address space `root` (queued, like [`map`](Self::map)).
    pub fn unmap(&mut self, root: u64, va: u64) -> Result<(), PageTableError> {
        match self.walk(root, va, false)? {
            Some(l1) => self.queue(l1 + index(va, Level::L1) * 8, 0),
            None => Ok(()),
        }
    }

    /// Queues a write of `value` to the entry at machine address `entry`.
    pub fn queue(&mut self, entry: u64, value: u64) -> Result<(), PageTableError> {
        let update = MmuUpdate {
            ptr: entry | MMU_NORMAL_PT_UPDATE,
            val: value,
        };
        if self.queue.push(update).is_err() {
            self.flush()?;
            let _ = self.queue.push(update);
        }
        Ok(())
    }

    /// Sends every queued update in one `mmu_update`.
    pub fn flush(&mut self) -> Result<(), PageTableError> {
        if self.queue.is_empty() {
            return Ok(());
        }
        self.hypercalls += 1;
        let result = self.backend.mmu_update(&self.queue);
        self.queue.clear();
        result.map_err(PageTableError::Xen)
    }

    /// A new address space: an empty L4 that shares the guest slots of
    /// `current` (same lower tables, so the kernel stays mapped), pinned.
    pub fn new_address_space(&mut self, current: &Frame) -> Result<Frame, PageTableError> {
        let root = self.new_table()?;
        for slot in (0..ENTRIES_PER_TABLE).filter(|slot| !HYPERVISOR_L4_SLOTS.contains(slot)) {
            let entry = self.backend.read_u64(current.va + slot as u64 * 8);
            if entry & PRESENT != 0 {
                self.queue((root.mfn << 12) + slot as u64 * 8, entry)?;
            }
        }
        self.flush()?;
        self.pin(root.mfn, Level::L4)?;
        Ok(root)
    }

    /// Pins `mfn` as a table of `level` (validating it and what it points to).
    pub fn pin(&mut self, mfn: u64, level: Level) -> Result<(), PageTableError> {
        self.extended(MMUEXT_PIN_L1_TABLE + level as u32 - 1, mfn)
    }

    /// Unpins `mfn`.
    pub fn unpin(&mut self, mfn: u64) -> Result<(), PageTableError> {
        self.extended(MMUEXT_UNPIN_TABLE, mfn)
    }

    /// Makes the L4 `mfn` the kernel's page-table base (loads CR3).
    pub fn switch_to(&mut self, mfn: u64) -> Result<(), PageTableError> {
        self.flush()?;
        self.extended(MMUEXT_NEW_BASEPTR, mfn)?;
        self.current_root = mfn;
        Ok(())
    }

    /// Makes the L4 `mfn` the base of guest user mode
    /// (`MMUEXT_NEW_USER_BASEPTR`): the table the CPU walks while a user
    /// program runs. 0 takes the user base away.
    pub fn set_user_base(&mut self, mfn: u64) -> Result<(), PageTableError> {
        self.extended(MMUEXT_NEW_USER_BASEPTR, mfn)
    }

    /// Entry `index` of table `mfn`, read through its read-only mapping.
    pub fn entry(&self, mfn: u64, index: u64) -> Result<u64, PageTableError> {
        Ok(self.backend.read_u64(self.table_va(mfn)? + (index % 512) * 8))
    }

    /// The L4 in CR3, as far as the manager knows.
    pub fn current_root(&self) -> u64 {
        self.current_root
    }

    /// Reads the word at `va` if the current address space maps it to a
    /// frame the manager handed out.
    pub fn read_mapped(&mut self, va: u64) -> Result<u64, PageTableError> {
        self.check_pool_mapping(va, false)?;
        Ok(self.backend.read_u64(va))
    }

    /// Writes the word at `va` if the current address space maps it
    /// writable to a frame the manager handed out: such frames belong to
    /// the manager's caller alone, so the write touches nothing else.
    pub fn write_mapped(&mut self, va: u64, value: u64) -> Result<(), PageTableError> {
        self.check_pool_mapping(va, true)?;
        self.backend.write_u64(va, value);
        Ok(())
    }

    /// Checks that `va` (8-byte aligned) is mapped in the current space, and
    /// writable if `write`, to a pool frame handed out so far.
    fn check_pool_mapping(&mut self, va: u64, write: bool) -> Result<(), PageTableError> {
        let not_mapped = PageTableError::NotMapped(va);
        if !va.is_multiple_of(8) {
            return Err(not_mapped);
        }
        let l1 = self.walk(self.current_root, va, false)?.ok_or(not_mapped)?;
        let l1_va = self.table_va(l1 >> 12)?;
        let entry = self.backend.read_u64(l1_va + index(va, Level::L1) * 8);
        let needed = if write { PRESENT | RW } else { PRESENT };
        let pfn = self
            .backend
            .read_u64(MACH2PHYS_VIRT_START + ((entry & ADDRESS_MASK) >> 12) * 8);
        if entry & needed != needed || !(self.first_pfn..self.next_pfn).contains(&pfn) {
            return Err(not_mapped);
        }
        Ok(())
    }

    /// One `mmuext_op` with `arg1`, after the queued updates.
    fn extended(&mut self, cmd: u32, arg1: u64) -> Result<(), PageTableError> {
        self.flush()?;
        let op = MmuextOp {
            cmd,
            _pad0: 0,
            arg1,
            arg2: 0,
        };
        self.hypercalls += 1;
        self.backend.mmuext_op(core::slice::from_ref(&op))?;
        Ok(())
    }

    /// The machine address of the L1 that maps `va` under `root`; with
    /// `create`, missing tables are made (each linked at once, so the walk
    /// can read it), otherwise `None` if one is missing.
    fn walk(&mut self, root: u64, va: u64, create: bool) -> Result<Option<u64>, PageTableError> {
        if !create {
            return Ok(self.table_path(root, va)?.map(|[.., l1]| l1 << 12));
        }
        check_guest_address(va)?;
        let mut table = root;
        for level in [Level::L4, Level::L3, Level::L2] {
            let entry = self.entry(table, index(va, level))?;
            table = if entry & PRESENT != 0 {
                (entry & ADDRESS_MASK) >> 12
            } else {
                let child = self.new_table()?;
                self.queue((table << 12) + index(va, level) * 8, (child.mfn << 12) | TABLE_FLAGS)?;
                self.flush()?;
                child.mfn
            };
        }
        Ok(Some(table << 12))
    }

    /// The machine frames of the L4 (`root`), L3, L2 and L1 that map `va`,
    /// or `None` if one of them is missing.
    pub fn table_path(&self, root: u64, va: u64) -> Result<Option<[u64; 4]>, PageTableError> {
        check_guest_address(va)?;
        let mut path = [root; 4];
        for (depth, level) in [Level::L4, Level::L3, Level::L2].into_iter().enumerate() {
            let entry = self.entry(path[depth], index(va, level))?;
            if entry & PRESENT == 0 {
                return Ok(None);
            }
            path[depth + 1] = (entry & ADDRESS_MASK) >> 12;
        }
        Ok(Some(path))
    }

    /// Where table `mfn` can be read: its pfn from the M2P, then its place
    /// in the bootstrap mapping.
    /// Writes entry `index` of table `mfn` directly, as a kernel without
    /// hypercalls would: the table is mapped read-only, so the write faults
    /// and the hypervisor emulates it, validating it as `mmu_update` would,
    /// once the guest enabled `VMASST_TYPE_writable_pagetables`. A refused
    /// write is a page fault for the guest.
    pub fn write_entry_directly(&mut self, mfn: u64, index: u64, value: u64) -> Result<(), PageTableError> {
        let va = self.table_va(mfn)? + (index % 512) * 8;
        self.backend.write_u64(va, value);
        Ok(())
    }

    /// Where the bootstrap mapping shows table `mfn` (read-only).
    pub fn table_address(&self, mfn: u64) -> Result<u64, PageTableError> {
        self.table_va(mfn)
    }

    fn table_va(&self, mfn: u64) -> Result<u64, PageTableError> {
        let pfn = self.backend.read_u64(MACH2PHYS_VIRT_START + mfn * 8);
        if pfn < self.end_pfn {
            Ok(self.virt_base + pfn * PAGE_SIZE)
        } else {
            Err(PageTableError::UnreadableTable(mfn))
        }
    }
}

/// Refuses a non-canonical address or one in the hypervisor's L4 slots.
fn check_guest_address(va: u64) -> Result<(), PageTableError> {
    let slot = index(va, Level::L4) as usize;
    let canonical = (va >> 47) == 0 || (va >> 47) == 0x1_ffff;
    if !canonical || HYPERVISOR_L4_SLOTS.contains(&slot) {
        return Err(PageTableError::BadAddress(va));
    }
    Ok(())
}

/// The index of `va`'s entry in its table of `level`.
pub const fn index(va: u64, level: Level) -> u64 {
    (va >> (12 + 9 * (level as u64 - 1))) & 511
}
