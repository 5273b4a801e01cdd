//! The frame table's storage: one `FrameInfo` per machine frame, in frames
//! taken from the allocator and mapped at `FRAME_TABLE_VIRT_START`.
//!
//! The frames need not be contiguous: the mapping makes them one slice.

use super::physical_memory::DIRECT_MAP;
use core::sync::atomic::{AtomicBool, Ordering};
use xen_core::arch::{FrameSource, PhysicalMemory};
use xen_core::mm::FrameInfo;
use xen_core::mm::hypervisor_page_table::{HypervisorPageTable, MapError, PteFlags};
use xen_core::mm::layout::{FRAME_TABLE_VIRT_SIZE, FRAME_TABLE_VIRT_START};
use xen_core::mm::mfn::PAGE_SIZE;

/// Set once the storage has been handed out: a second `&'static mut` to the
/// same memory would alias the first.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Why the storage could not be set up.
#[derive(Debug)]
pub enum StorageError {
    /// Mapping failed (out of frames, or a clash).
    Map(MapError),
    /// More frames than the virtual range can describe.
    TooManyFrames(u64),
    /// Called a second time.
    AlreadyTaken,
}

impl core::fmt::Display for StorageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StorageError::Map(error) => write!(f, "{error}"),
            StorageError::TooManyFrames(count) => {
                write!(f, "{count} machine frames do not fit the frame table's range")
            }
            StorageError::AlreadyTaken => write!(f, "the frame table's storage was already taken"),
        }
    }
}

/// Maps storage for `machine_frames` entries, every one a free frame, and
/// returns it; callable once.
pub fn take(
    machine_frames: u64,
    table: &mut HypervisorPageTable,
    frames: &mut impl FrameSource,
) -> Result<&'static mut [FrameInfo], StorageError> {
    let bytes = machine_frames * core::mem::size_of::<FrameInfo>() as u64;
    if bytes > FRAME_TABLE_VIRT_SIZE {
        return Err(StorageError::TooManyFrames(machine_frames));
    }
    if TAKEN.swap(true, Ordering::AcqRel) {
        return Err(StorageError::AlreadyTaken);
    }
    let mut memory = DIRECT_MAP;
    let flags = PteFlags::WRITABLE | PteFlags::NO_EXECUTE;
    for page in 0..bytes.div_ceil(PAGE_SIZE) {
        let mfn = frames
            .allocate_frame()
            .ok_or(StorageError::Map(MapError::OutOfFrames))?;
        memory.zero_frame(mfn);
        let va = FRAME_TABLE_VIRT_START + page * PAGE_SIZE;
        table
            .map_range(&mut memory, frames, va, mfn.address(), PAGE_SIZE, flags)
            .map_err(StorageError::Map)?;
    }
    let first = FRAME_TABLE_VIRT_START as *mut FrameInfo;
    for index in 0..machine_frames as usize {
        // SAFETY: the range was just mapped writable for `machine_frames`
        // entries, `FrameInfo` (align 4) divides the page-aligned start, and
        // nothing else refers to these fresh frames.
        unsafe { first.add(index).write(FrameInfo::FREE) };
    }
    // SAFETY: every element was initialised above; `TAKEN` guarantees this is
    // the only reference ever made to the range, which stays mapped (in the
    // hypervisor's slots of every L4) for the life of the hypervisor.
    Ok(unsafe { core::slice::from_raw_parts_mut(first, machine_frames as usize) })
}
