//! The hypervisor's own four-level page table.
//!
//! Built once at boot: the image in slot 261 with per-section permissions and a
//! direct map of physical memory in slots 262–271. Later every guest L4 gets copies
//! of these slots. The builder reaches page-table frames only through the arch
//! seam, so the same code runs over real memory and over the fake machine.

use crate::arch::{FrameSource, PhysicalMemory};
use crate::mm::Mfn;
use crate::mm::layout::is_canonical;
use crate::mm::mfn::PAGE_SIZE;
use bitflags::bitflags;
use core::fmt;
use xen_abi::page_table_entry::{self as pte, ADDRESS_MASK};

bitflags! {
    /// x86_64 page-table entry flags this builder uses.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PteFlags: u64 {
        /// The entry is valid.
        const PRESENT = pte::PRESENT;
        /// Writes are allowed.
        const WRITABLE = pte::RW;
        /// Ring 3 may access (never set on hypervisor mappings).
        const USER = pte::USER;
        /// Set by the CPU on access.
        const ACCESSED = pte::ACCESSED;
        /// Set by the CPU on write.
        const DIRTY = pte::DIRTY;
        /// In an L2 or L3 entry: maps a large page instead of pointing at a table.
        const HUGE = pte::PSE;
        /// Survives CR3 reloads in the TLB.
        const GLOBAL = pte::GLOBAL;
        /// Instruction fetches fault (needs EFER.NXE).
        const NO_EXECUTE = pte::NX;
    }
}

/// Flags of intermediate entries: the leaf entry decides the permissions.
const TABLE_FLAGS: PteFlags = PteFlags::PRESENT.union(PteFlags::WRITABLE);
/// Size of a large page mapped by one L2 entry.
pub const LARGE_PAGE_SIZE: u64 = 2 << 20;

/// The size of one mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageSize {
    /// A 4 KiB page mapped by an L1 entry.
    Small,
    /// A 2 MiB page mapped by an L2 entry.
    Large,
}

impl PageSize {
    /// Size in bytes.
    pub const fn bytes(self) -> u64 {
        match self {
            PageSize::Small => PAGE_SIZE,
            PageSize::Large => LARGE_PAGE_SIZE,
        }
    }

    /// The level whose entry maps a page of this size (1 or 2).
    const fn leaf_level(self) -> u32 {
        match self {
            PageSize::Small => 1,
            PageSize::Large => 2,
        }
    }
}

/// Why a mapping could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// No free frame was left for a page-table page.
    OutOfFrames,
    /// The virtual or physical address is not aligned to the page size.
    Misaligned {
        /// The virtual address asked for.
        va: u64,
        /// The physical address asked for.
        pa: u64,
    },
    /// The virtual address is not canonical.
    NonCanonical(u64),
    /// Something is already mapped there.
    AlreadyMapped(u64),
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::OutOfFrames => write!(f, "out of frames for page tables"),
            MapError::Misaligned { va, pa } => write!(f, "misaligned mapping {va:#x} -> {pa:#x}"),
            MapError::NonCanonical(va) => write!(f, "non-canonical address {va:#x}"),
            MapError::AlreadyMapped(va) => write!(f, "{va:#x} is already mapped"),
        }
    }
}

/// A four-level page table owned by the hypervisor, identified by its L4 frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HypervisorPageTable {
    root: Mfn,
}

impl HypervisorPageTable {
    /// Allocates and zeroes an empty L4.
    pub fn new(memory: &mut impl PhysicalMemory, frames: &mut impl FrameSource) -> Result<Self, MapError> {
        let root = frames.allocate_frame().ok_or(MapError::OutOfFrames)?;
        memory.zero_frame(root);
        Ok(HypervisorPageTable { root })
    }

    /// Reads L4 entry `slot` (for copying the hypervisor's slots into guest L4s).
    pub fn l4_entry(&self, memory: &impl PhysicalMemory, slot: usize) -> u64 {
        memory.read_u64(self.root.address() + (slot as u64 & 511) * 8)
    }

    /// The L4 frame, what CR3 is loaded with.
    pub const fn root(&self) -> Mfn {
        self.root
    }

    /// Maps one page of `size` at `va` to physical `pa` with `flags` (PRESENT implied).
    pub fn map(
        &mut self,
        memory: &mut impl PhysicalMemory,
        frames: &mut impl FrameSource,
        va: u64,
        pa: u64,
        size: PageSize,
        flags: PteFlags,
    ) -> Result<(), MapError> {
        if !is_canonical(va) {
            return Err(MapError::NonCanonical(va));
        }
        if !va.is_multiple_of(size.bytes()) || !pa.is_multiple_of(size.bytes()) || pa & !ADDRESS_MASK != 0 {
            return Err(MapError::Misaligned { va, pa });
        }
        // A user-accessible leaf needs USER on every level above it too; the
        // leaf's own RW bit still decides writes.
        let table_flags = TABLE_FLAGS | (flags & PteFlags::USER);
        let mut table = self.root;
        for level in (size.leaf_level() + 1..=4).rev() {
            let slot = entry_address(table, va, level);
            let entry = memory.read_u64(slot);
            table = if entry & PteFlags::PRESENT.bits() == 0 {
                let next = frames.allocate_frame().ok_or(MapError::OutOfFrames)?;
                memory.zero_frame(next);
                memory.write_u64(slot, next.address() | table_flags.bits());
                next
            } else if entry & PteFlags::HUGE.bits() != 0 {
                return Err(MapError::AlreadyMapped(va));
            } else {
                memory.write_u64(slot, entry | table_flags.bits());
                Mfn::containing(entry & ADDRESS_MASK)
            };
        }
        let leaf = entry_address(table, va, size.leaf_level());
        if memory.read_u64(leaf) & PteFlags::PRESENT.bits() != 0 {
            return Err(MapError::AlreadyMapped(va));
        }
        let huge = if size == PageSize::Large {
            PteFlags::HUGE
        } else {
            PteFlags::empty()
        };
        memory.write_u64(leaf, pa | (flags | huge | PteFlags::PRESENT).bits());
        Ok(())
    }

    /// Maps `len` bytes from `va` to `pa` with the largest pages alignment allows.
    pub fn map_range(
        &mut self,
        memory: &mut impl PhysicalMemory,
        frames: &mut impl FrameSource,
        va: u64,
        pa: u64,
        len: u64,
        flags: PteFlags,
    ) -> Result<(), MapError> {
        let mut offset = 0;
        while offset < len {
            let remaining = len - offset;
            let (v, p) = (va.wrapping_add(offset), pa.wrapping_add(offset));
            let size = if v.is_multiple_of(LARGE_PAGE_SIZE)
                && p.is_multiple_of(LARGE_PAGE_SIZE)
                && remaining >= LARGE_PAGE_SIZE
            {
                PageSize::Large
            } else {
                PageSize::Small
            };
            self.map(memory, frames, v, p, size, flags)?;
            offset += size.bytes();
        }
        Ok(())
    }

    /// The physical address of the 4 KiB leaf entry translating `va`, if
    /// the tables down to it exist (for a window whose entries the kernel
    /// rewrites).
    pub fn leaf_entry(&self, memory: &impl PhysicalMemory, va: u64) -> Option<u64> {
        let mut table = self.root;
        for level in (2..=4).rev() {
            let entry = memory.read_u64(entry_address(table, va, level));
            if entry & PteFlags::PRESENT.bits() == 0 || entry & PteFlags::HUGE.bits() != 0 {
                return None;
            }
            table = Mfn::containing(entry & ADDRESS_MASK);
        }
        Some(entry_address(table, va, 1))
    }

    /// Walks the table: the physical address `va` maps to and the leaf entry's flags.
    pub fn translate(&self, memory: &impl PhysicalMemory, va: u64) -> Option<(u64, PteFlags)> {
        let mut table = self.root;
        for level in (1..=4).rev() {
            let entry = memory.read_u64(entry_address(table, va, level));
            if entry & PteFlags::PRESENT.bits() == 0 {
                return None;
            }
            let large = level == 2 && entry & PteFlags::HUGE.bits() != 0;
            if level == 1 || large {
                let page = if large { LARGE_PAGE_SIZE } else { PAGE_SIZE };
                let base = entry & ADDRESS_MASK & !(page - 1);
                return Some((
                    base | (va & (page - 1)),
                    PteFlags::from_bits_truncate(entry) - PteFlags::HUGE,
                ));
            }
            table = Mfn::containing(entry & ADDRESS_MASK);
        }
        None
    }
}

/// Physical address of the entry translating `va` in `table` at `level` (1–4).
fn entry_address(table: Mfn, va: u64, level: u32) -> u64 {
    let index = (va >> (12 + 9 * (level - 1))) & 511;
    table.address() + index * 8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::fake::{FakeFrames, FakeMemory};
    use crate::mm::layout::{DIRECT_MAP_BASE, HYPERVISOR_IMAGE_BASE};

    fn setup() -> (FakeMemory, FakeFrames, HypervisorPageTable) {
        let mut memory = FakeMemory::default();
        let mut frames = FakeFrames {
            next: 0x100,
            end: 0x200,
        };
        let table = HypervisorPageTable::new(&mut memory, &mut frames).unwrap();
        (memory, frames, table)
    }

    #[test]
    fn small_pages_translate_back_with_their_flags() {
        let (mut memory, mut frames, mut table) = setup();
        let flags = PteFlags::WRITABLE | PteFlags::NO_EXECUTE;
        table
            .map(
                &mut memory,
                &mut frames,
                HYPERVISOR_IMAGE_BASE,
                0x10_0000,
                PageSize::Small,
                flags,
            )
            .unwrap();
        let (pa, got) = table.translate(&memory, HYPERVISOR_IMAGE_BASE + 0x123).unwrap();
        assert_eq!(pa, 0x10_0123);
        assert_eq!(got, flags | PteFlags::PRESENT);
        assert_eq!(table.translate(&memory, HYPERVISOR_IMAGE_BASE + PAGE_SIZE), None);
        // One L3, one L2 and one L1 were needed below the L4.
        assert_eq!(frames.next, 0x104);
    }

    #[test]
    fn map_range_uses_large_pages_where_aligned() {
        let (mut memory, mut frames, mut table) = setup();
        let len = 3 * LARGE_PAGE_SIZE + 2 * PAGE_SIZE;
        table
            .map_range(&mut memory, &mut frames, DIRECT_MAP_BASE, 0, len, PteFlags::WRITABLE)
            .unwrap();
        for pa in [0, LARGE_PAGE_SIZE + 17, 3 * LARGE_PAGE_SIZE + PAGE_SIZE + 8] {
            assert_eq!(table.translate(&memory, DIRECT_MAP_BASE + pa).map(|t| t.0), Some(pa));
        }
        assert_eq!(table.translate(&memory, DIRECT_MAP_BASE + len), None);
        // L3 + L2 for the large pages, one L1 for the two small ones.
        assert_eq!(frames.next, 0x104);
    }

    #[test]
    fn overlapping_mappings_are_refused() {
        let (mut memory, mut frames, mut table) = setup();
        let va = DIRECT_MAP_BASE;
        table
            .map(&mut memory, &mut frames, va, 0, PageSize::Large, PteFlags::empty())
            .unwrap();
        assert_eq!(
            table.map(
                &mut memory,
                &mut frames,
                va + PAGE_SIZE,
                0,
                PageSize::Small,
                PteFlags::empty()
            ),
            Err(MapError::AlreadyMapped(va + PAGE_SIZE))
        );
        assert_eq!(
            table.map(&mut memory, &mut frames, va, 0, PageSize::Large, PteFlags::empty()),
            Err(MapError::AlreadyMapped(va))
        );
    }

    #[test]
    fn bad_addresses_are_refused() {
        let (mut memory, mut frames, mut table) = setup();
        let mut map = |va, pa, size| table.map(&mut memory, &mut frames, va, pa, size, PteFlags::empty());
        assert_eq!(
            map(0x0000_8000_0000_0000, 0, PageSize::Small),
            Err(MapError::NonCanonical(0x0000_8000_0000_0000))
        );
        assert!(matches!(
            map(DIRECT_MAP_BASE + PAGE_SIZE, 0, PageSize::Large),
            Err(MapError::Misaligned { .. })
        ));
        assert!(matches!(
            map(DIRECT_MAP_BASE, 0x800, PageSize::Small),
            Err(MapError::Misaligned { .. })
        ));
        assert!(matches!(
            map(DIRECT_MAP_BASE, 1 << 52, PageSize::Small),
            Err(MapError::Misaligned { .. })
        ));
    }

    #[test]
    fn running_out_of_frames_is_an_error() {
        let mut memory = FakeMemory::default();
        let mut frames = FakeFrames { next: 0, end: 2 };
        let mut table = HypervisorPageTable::new(&mut memory, &mut frames).unwrap();
        assert_eq!(
            table.map(
                &mut memory,
                &mut frames,
                DIRECT_MAP_BASE,
                0,
                PageSize::Small,
                PteFlags::empty()
            ),
            Err(MapError::OutOfFrames)
        );
    }
}
