//! The arch seam: what portable code needs from the machine.
//!
//! The kernel image implements these traits over real hardware; host tests
//! implement them over a fake machine, so the logic above the seam runs under
//! `cargo test` unchanged.

use crate::mm::Mfn;

/// Access to physical memory by physical address.
///
/// The kernel implements it through the boot identity map early on and through
/// the direct map afterwards; tests implement it over a map of fake frames.
pub trait PhysicalMemory {
    /// Reads the naturally aligned 64-bit word at physical address `address`.
    fn read_u64(&self, address: u64) -> u64;
    /// Writes the naturally aligned 64-bit word at physical address `address`.
    fn write_u64(&mut self, address: u64, value: u64);
    /// Fills frame `mfn` with zeroes.
    fn zero_frame(&mut self, mfn: Mfn);
}

/// A source of free machine frames.
pub trait FrameSource {
    /// Takes one free frame, or `None` when memory is exhausted.
    fn allocate_frame(&mut self) -> Option<Mfn>;
}

impl<const WORDS: usize> FrameSource for crate::mm::frame_allocator::FrameAllocator<WORDS> {
    fn allocate_frame(&mut self) -> Option<Mfn> {
        self.allocate()
    }
}

/// A fake machine for host tests: sparse physical memory.
#[cfg(test)]
pub mod fake {
    use super::*;
    use crate::mm::mfn::PAGE_SIZE;
    use std::collections::BTreeMap;

    /// Sparse physical memory; unwritten words read as zero.
    #[derive(Default)]
    pub struct FakeMemory {
        /// Frames that have been written, by frame number.
        pub frames: BTreeMap<u64, [u64; 512]>,
    }

    impl PhysicalMemory for FakeMemory {
        fn read_u64(&self, address: u64) -> u64 {
            assert_eq!(address % 8, 0, "misaligned word read at {address:#x}");
            self.frames
                .get(&(address / PAGE_SIZE))
                .map_or(0, |frame| frame[(address % PAGE_SIZE / 8) as usize])
        }

        fn write_u64(&mut self, address: u64, value: u64) {
            assert_eq!(address % 8, 0, "misaligned word write at {address:#x}");
            let frame = self.frames.entry(address / PAGE_SIZE).or_insert([0; 512]);
            frame[(address % PAGE_SIZE / 8) as usize] = value;
        }

        fn zero_frame(&mut self, mfn: Mfn) {
            self.frames.insert(mfn.0, [0; 512]);
        }
    }

    /// Hands out consecutive frames from a fixed range.
    pub struct FakeFrames {
        /// The next frame to hand out.
        pub next: u64,
        /// One past the last frame that may be handed out.
        pub end: u64,
    }

    impl FrameSource for FakeFrames {
        fn allocate_frame(&mut self) -> Option<Mfn> {
            (self.next < self.end).then(|| {
                self.next += 1;
                Mfn(self.next - 1)
            })
        }
    }
}
