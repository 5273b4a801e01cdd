//! Half-open ranges of physical addresses.

use super::mfn::{Mfn, PAGE_SIZE};
use core::fmt;

/// The physical addresses `start..end` (end exclusive). Empty when `start >= end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhysRange {
    /// First address in the range.
    pub start: u64,
    /// First address after the range.
    pub end: u64,
}

impl PhysRange {
    /// The range `start..end`.
    pub const fn new(start: u64, end: u64) -> Self {
        PhysRange { start, end }
    }

    /// The range of `size` bytes from `start`, clamped at the top of the address space.
    pub const fn from_start_size(start: u64, size: u64) -> Self {
        PhysRange {
            start,
            end: start.saturating_add(size),
        }
    }

    /// Whether the range holds no address.
    pub const fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    /// Number of bytes in the range.
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether `address` lies in the range.
    pub const fn contains(&self, address: u64) -> bool {
        self.start <= address && address < self.end
    }

    /// Whether the two ranges share at least one address.
    pub const fn overlaps(&self, other: &PhysRange) -> bool {
        !self.is_empty() && !other.is_empty() && self.start < other.end && other.start < self.end
    }

    /// The whole frames inside the range (start rounded up, end rounded down).
    pub const fn inner_frames(&self) -> core::ops::Range<u64> {
        let first = self.start.div_ceil(PAGE_SIZE);
        let last = self.end / PAGE_SIZE;
        if first < last { first..last } else { first..first }
    }

    /// The frames the range touches (start rounded down, end rounded up).
    pub const fn outer_frames(&self) -> core::ops::Range<u64> {
        if self.is_empty() {
            return 0..0;
        }
        (self.start / PAGE_SIZE)..self.end.div_ceil(PAGE_SIZE)
    }

    /// Whether the range holds frame `mfn` entirely.
    pub const fn contains_frame(&self, mfn: Mfn) -> bool {
        let frames = self.inner_frames();
        frames.start <= mfn.0 && mfn.0 < frames.end
    }
}

impl fmt::Display for PhysRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#014x}-{:#014x}", self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rounding_goes_inward_and_outward() {
        let range = PhysRange::new(0x1800, 0x5800);
        assert_eq!(range.inner_frames(), 2..5);
        assert_eq!(range.outer_frames(), 1..6);
        let tiny = PhysRange::new(0x1001, 0x1fff);
        assert!(tiny.inner_frames().is_empty());
        assert_eq!(tiny.outer_frames(), 1..2);
    }

    #[test]
    fn overlap_is_half_open() {
        let a = PhysRange::new(0x1000, 0x2000);
        assert!(!a.overlaps(&PhysRange::new(0x2000, 0x3000)));
        assert!(a.overlaps(&PhysRange::new(0x1fff, 0x3000)));
        assert!(!a.overlaps(&PhysRange::new(0x1500, 0x1500)));
    }

    #[test]
    fn from_start_size_saturates() {
        assert_eq!(PhysRange::from_start_size(u64::MAX - 1, 10).end, u64::MAX);
    }
}
