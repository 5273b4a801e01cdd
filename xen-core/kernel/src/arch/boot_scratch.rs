//! Memory to unpack compressed kernels in while the boot domains are built:
//! one machine-contiguous run of free frames, seen through the direct map,
//! given back once every domain is built.

use super::free_frames::FRAMES;
use xen_core::mm::Mfn;
use xen_core::mm::layout::DIRECT_MAP_BASE;
use xen_core::mm::mfn::PAGE_SIZE;

/// A run of frames lent as a byte buffer.
pub struct BootScratch {
    first: Mfn,
    frames: u64,
}

impl BootScratch {
    /// At least `bytes` of frames, or `None` when no run that long is free.
    pub fn take(bytes: usize) -> Option<BootScratch> {
        if bytes == 0 {
            return Some(BootScratch {
                first: Mfn(0),
                frames: 0,
            });
        }
        let frames = (bytes as u64).div_ceil(PAGE_SIZE);
        let order = frames.next_power_of_two().trailing_zeros();
        let first = FRAMES.lock().allocate_extent(order, Mfn(u64::MAX))?;
        Some(BootScratch {
            first,
            frames: 1 << order,
        })
    }

    /// The frames as bytes.
    pub fn bytes(&mut self) -> &mut [u8] {
        if self.frames == 0 {
            return &mut [];
        }
        let start = (DIRECT_MAP_BASE + self.first.address()) as *mut u8;
        // SAFETY: the frames are a run the allocator gave us alone, all RAM,
        // which the direct map covers; nothing else refers to them until
        // `drop` gives them back, and the slice borrows `self`.
        unsafe { core::slice::from_raw_parts_mut(start, (self.frames * PAGE_SIZE) as usize) }
    }
}

impl Drop for BootScratch {
    fn drop(&mut self) {
        let mut frames = FRAMES.lock();
        for frame in 0..self.frames {
            let _ = frames.free(Mfn(self.first.0 + frame));
        }
    }
}
