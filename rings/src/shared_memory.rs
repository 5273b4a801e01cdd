//! The one way to shared memory: 32-bit atomic words.
//!
//! The peer writes the shared page concurrently and without any agreement on
//! Rust's rules, so every access is an atomic load or store of a 32-bit word
//! (plain `mov`s on x86). Ring indices are single words; entries and byte data
//! are copied word by word.
#![allow(unsafe_code)]

use crate::sync::{AtomicU32, Ordering};

/// Memory shared with a peer, addressed in 32-bit words.
///
/// Implemented for slices of atomics; loom models use loom's atomics.
pub trait SharedMemory {
    /// Number of words.
    fn words(&self) -> usize;
    /// Loads word `index`. Panics if `index >= self.words()`, which ring code
    /// never asks for: every index it computes is masked or checked first.
    fn load(&self, index: usize, ordering: Ordering) -> u32;
    /// Stores word `index`; panics like [`SharedMemory::load`].
    fn store(&self, index: usize, value: u32, ordering: Ordering);

    /// Copies `out.len()` bytes (a multiple of 4) from word `first` on, with
    /// relaxed loads. Implementations may check bounds once for the run.
    #[inline]
    fn read_run(&self, first: usize, out: &mut [u8]) {
        for (index, chunk) in out.chunks_exact_mut(4).enumerate() {
            chunk.copy_from_slice(&self.load(first + index, Ordering::Relaxed).to_ne_bytes());
        }
    }

    /// Copies `data` (a multiple of 4 bytes) into words from `first` on, with
    /// relaxed stores.
    #[inline]
    fn write_run(&self, first: usize, data: &[u8]) {
        for (index, chunk) in data.chunks_exact(4).enumerate() {
            let word = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            self.store(first + index, word, Ordering::Relaxed);
        }
    }
}

// `#[inline]`: these are the innermost operations of every ring access and are
// not generic, so without it each word would cost a call from other crates.
impl SharedMemory for [AtomicU32] {
    #[inline]
    fn words(&self) -> usize {
        self.len()
    }

    #[inline]
    fn load(&self, index: usize, ordering: Ordering) -> u32 {
        self[index].load(ordering)
    }

    #[inline]
    fn store(&self, index: usize, value: u32, ordering: Ordering) {
        self[index].store(value, ordering)
    }

    // One bounds check per run instead of one per word: entries are copied on
    // every message, and the per-word checks were measurable.
    #[inline]
    fn read_run(&self, first: usize, out: &mut [u8]) {
        let words = &self[first..first + out.len() / 4];
        for (word, chunk) in words.iter().zip(out.chunks_exact_mut(4)) {
            chunk.copy_from_slice(&word.load(Ordering::Relaxed).to_ne_bytes());
        }
    }

    #[inline]
    fn write_run(&self, first: usize, data: &[u8]) {
        let words = &self[first..first + data.len() / 4];
        for (word, chunk) in words.iter().zip(data.chunks_exact(4)) {
            word.store(
                u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]),
                Ordering::Relaxed,
            );
        }
    }
}

/// An owned, zeroed shared area of `bytes` bytes (rounded up to whole words),
/// for host-side users: tests, benchmarks, dom0 tools.
#[cfg(any(feature = "std", test, loom))]
pub fn owned_words(bytes: usize) -> std::vec::Vec<AtomicU32> {
    (0..bytes.div_ceil(4)).map(|_| AtomicU32::new(0)).collect()
}

/// Views `bytes` bytes at `base` (a page mapped from the peer) as shared words.
///
/// # Safety
/// `base` must be 4-byte aligned and valid for reads and writes of `bytes`
/// bytes for all of `'a`, and nothing in this program may access that memory
/// other than through the returned slice (the peer, outside the program, may
/// write it at will: that is what atomics are for). `bytes` is rounded down to
/// whole words.
#[cfg(not(loom))]
pub unsafe fn words_from_raw<'a>(base: *mut u8, bytes: usize) -> &'a [AtomicU32] {
    debug_assert!((base as usize).is_multiple_of(core::mem::align_of::<AtomicU32>()));
    // SAFETY: AtomicU32 has the size and alignment of u32; the caller
    // guarantees alignment, validity for `bytes` bytes over 'a, and that all
    // in-program access goes through this slice, so creating shared references
    // to atomics over it is sound.
    unsafe { core::slice::from_raw_parts(base.cast::<AtomicU32>(), bytes / 4) }
}
