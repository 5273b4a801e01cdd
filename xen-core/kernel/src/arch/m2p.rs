//! The machine-to-physical table, read-only for guests at MACH2PHYS_VIRT_START.
#![deny(unsafe_code)] // safe code over the arch wrappers; it sits here as the x86 side of the seam

use crate::arch::physical_memory::DIRECT_MAP;
use heapless::Vec;
use spin::Mutex;
use xen_abi::mmu::MACH2PHYS_VIRT_START;
use xen_core::arch::{MachineToPhys, PhysicalMemory};
use xen_core::mm::frame_allocator::FrameAllocator;
use xen_core::mm::hypervisor_page_table::{HypervisorPageTable, MapError, PteFlags};
use xen_core::mm::mfn::PAGE_SIZE;
use xen_core::mm::{Mfn, Pfn};

/// Most M2P frames: entries for 4 GiB of machine memory, what the frame
/// allocator covers.
const MAX_FRAMES: usize = 2048;
/// Entries per frame.
const ENTRIES_PER_FRAME: u64 = PAGE_SIZE / 8;

/// Frames per extent: the table is allocated in 2 MiB runs, as Xen's is,
/// so that `XENMEM_machphys_mfn_list` can name each by its first frame.
const FRAMES_PER_EXTENT: u64 = 512;
/// Most extents: 4 GiB of machine memory's entries are 8 MiB.
const MAX_EXTENTS: usize = MAX_FRAMES / FRAMES_PER_EXTENT as usize;

/// The table's frames, written through the direct map.
pub struct KernelM2p {
    frames: Vec<Mfn, MAX_FRAMES>,
    extents: Vec<Mfn, MAX_EXTENTS>,
}

/// The one table (16 KiB of frame numbers: kept off the stack).
pub static M2P: Mutex<KernelM2p> = Mutex::new(KernelM2p {
    frames: Vec::new(),
    extents: Vec::new(),
});

/// Writes M2P entries: a handle for the platform and the domain builder,
/// which locks the table for each entry.
pub struct M2pWriter;

impl KernelM2p {
    /// Allocates entries for machine frames `0..machine_frames`, all invalid
    /// (all-ones), and maps them read-only and user-readable at
    /// MACH2PHYS_VIRT_START, where every guest finds them from its first
    /// instruction on.
    pub fn create<const WORDS: usize>(
        &mut self,
        machine_frames: u64,
        table: &mut HypervisorPageTable,
        frames: &mut FrameAllocator<WORDS>,
    ) -> Result<(), MapError> {
        let mut memory = DIRECT_MAP;
        let count = machine_frames.div_ceil(ENTRIES_PER_FRAME).min(MAX_FRAMES as u64);
        for index in 0..count {
            if index % FRAMES_PER_EXTENT == 0 {
                let extent = frames
                    .allocate_extent(FRAMES_PER_EXTENT.trailing_zeros(), Mfn(u64::MAX))
                    .ok_or(MapError::OutOfFrames)?;
                let _ = self.extents.push(extent);
            }
            let Some(&extent) = self.extents.last() else {
                return Err(MapError::OutOfFrames);
            };
            let mfn = Mfn(extent.0 + index % FRAMES_PER_EXTENT);
            for word in 0..ENTRIES_PER_FRAME {
                memory.write_u64(mfn.address() + word * 8, u64::MAX);
            }
            let va = MACH2PHYS_VIRT_START + index * PAGE_SIZE;
            let flags = PteFlags::USER | PteFlags::NO_EXECUTE;
            table.map_range(&mut memory, frames, va, mfn.address(), PAGE_SIZE, flags)?;
            let _ = self.frames.push(mfn);
        }
        Ok(())
    }

    /// The first frame of the table's 2 MiB run `index`, if it has one.
    pub fn extent(&self, index: usize) -> Option<Mfn> {
        self.extents.get(index).copied()
    }

    /// Machine frames the table covers.
    pub fn entries(&self) -> u64 {
        self.frames.len() as u64 * ENTRIES_PER_FRAME
    }
}

impl MachineToPhys for M2pWriter {
    fn set(&mut self, mfn: Mfn, pfn: Pfn) {
        // Frames outside the table have no entry to set (none are allocated).
        if let Some(frame) = M2P.lock().frames.get((mfn.0 / ENTRIES_PER_FRAME) as usize) {
            let mut memory = DIRECT_MAP;
            memory.write_u64(frame.address() + (mfn.0 % ENTRIES_PER_FRAME) * 8, pfn.0);
        }
    }
}
