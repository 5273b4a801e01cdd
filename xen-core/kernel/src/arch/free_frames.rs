//! The machine's free frames: the allocator every frame the hypervisor
//! hands out comes from, and goes back to.

use spin::Mutex;
use xen_core::arch::FrameSink;
use xen_core::mm::Mfn;
use xen_core::mm::frame_allocator::FrameAllocator;
use xen_core::mm::mfn::PAGE_SIZE;

/// Bitmap words for the frame allocator: 4 GiB of frames, all the boot identity
/// map can reach while the first page tables are built.
const FRAME_WORDS: usize = (4 << 30) / PAGE_SIZE as usize / 64;

/// All free machine frames.
pub static FRAMES: Mutex<FrameAllocator<FRAME_WORDS>> = Mutex::new(FrameAllocator::new());

/// [`FRAMES`] as a place to give frames back, locked per frame: only a
/// dead domain's teardown frees frames, a bounded number per pass.
pub struct FreeFrames;

impl FrameSink for FreeFrames {
    fn free_frame(&mut self, mfn: Mfn) -> bool {
        FRAMES.lock().free(mfn).is_ok()
    }
}
