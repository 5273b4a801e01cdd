//! The frame allocator: one bit per machine frame.
//!
//! A fixed bitmap needs no heap and, being all zeroes when empty, can sit in a
//! `static` that lands in `.bss`, so it exists before anything else is set up. A
//! second bitmap remembers which frames were ever handed to the allocator: freeing a
//! frame it never owned (a reservation, the hypervisor image, an MMIO page) is a bug
//! elsewhere, and it is reported instead of quietly turning that frame into free RAM.

use super::mfn::Mfn;
use super::phys_range::PhysRange;
use core::fmt;

mod extents;

/// Frames per bitmap word.
const FRAMES_PER_WORD: u64 = u64::BITS as u64;

/// A bitmap allocator for frames `0..CAPACITY_FRAMES` (`WORDS` × 64 frames).
#[derive(Clone, Debug)]
pub struct FrameAllocator<const WORDS: usize> {
    /// A set bit is a free frame.
    free: [u64; WORDS],
    /// A set bit is a frame that was added with [`FrameAllocator::add_free_range`].
    managed: [u64; WORDS],
    free_frames: u64,
    managed_frames: u64,
    /// The word where the last allocation found a frame: searching resumes there,
    /// so allocating every frame in turn costs one pass over the bitmap, not one
    /// pass per frame.
    next_word: usize,
}

/// What [`FrameAllocator::add_free_range`] did with a range's whole frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddedFrames {
    /// Frames that became free.
    pub added: u64,
    /// Frames the allocator already managed, free or allocated, and left as they were.
    pub already_managed: u64,
    /// Frames at or above the capacity, ignored.
    pub beyond_capacity: u64,
}

/// Why a frame could not be freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The frame is free already.
    DoubleFree(Mfn),
    /// The frame lies beyond the allocator's capacity.
    OutOfRange(Mfn),
    /// The frame was never added to the allocator, so it is not its to free.
    NotManaged(Mfn),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::DoubleFree(mfn) => write!(f, "frame allocator: {mfn} freed twice"),
            FrameError::OutOfRange(mfn) => {
                write!(f, "frame allocator: {mfn} is beyond the allocator's capacity")
            }
            FrameError::NotManaged(mfn) => {
                write!(f, "frame allocator: {mfn} was never added, so it cannot be freed")
            }
        }
    }
}

impl<const WORDS: usize> FrameAllocator<WORDS> {
    /// Frames the allocator can track: `0..CAPACITY_FRAMES`.
    pub const CAPACITY_FRAMES: u64 = (WORDS as u64).saturating_mul(FRAMES_PER_WORD);

    /// An allocator that manages no frame yet; all zeroes, so a `static` of it
    /// occupies no space in the image.
    pub const fn new() -> Self {
        FrameAllocator {
            free: [0; WORDS],
            managed: [0; WORDS],
            free_frames: 0,
            managed_frames: 0,
            next_word: 0,
        }
    }

    /// Hands the whole frames inside `range` to the allocator as free.
    ///
    /// Frames it manages already are left alone, free or allocated, so adding
    /// overlapping ranges neither counts a frame twice nor frees one in use. Frames at
    /// or above the capacity are counted and ignored.
    pub fn add_free_range(&mut self, range: PhysRange) -> AddedFrames {
        let frames = range.inner_frames();
        let capacity = Self::CAPACITY_FRAMES;
        let mut result = AddedFrames {
            beyond_capacity: frames.end.saturating_sub(frames.start.max(capacity)),
            ..AddedFrames::default()
        };
        let end = frames.end.min(capacity);
        let mut frame = frames.start;
        // One bitmap word per step.
        while frame < end {
            // `bit < 64` and `frame < end`, so `count` is 1..=64 and the shifts are valid.
            let bit = frame % FRAMES_PER_WORD;
            let count = (FRAMES_PER_WORD - bit).min(end - frame);
            let mask = (u64::MAX >> (FRAMES_PER_WORD - count)) << bit;
            if let Some((free, managed)) = self.words_mut(frame) {
                let fresh = mask & !*managed;
                *free |= fresh;
                *managed |= fresh;
                let added = u64::from(fresh.count_ones());
                result.added = result.added.saturating_add(added);
                result.already_managed = result.already_managed.saturating_add(count - added);
            }
            frame = frame.saturating_add(count);
        }
        self.free_frames = self.free_frames.saturating_add(result.added);
        self.managed_frames = self.managed_frames.saturating_add(result.added);
        result
    }

    /// Takes a free frame, or `None` when none is left.
    pub fn allocate(&mut self) -> Option<Mfn> {
        if self.free_frames == 0 {
            return None;
        }
        let resume = self.next_word.min(WORDS);
        for index in (resume..WORDS).chain(0..resume) {
            let Some(word) = self.free.get_mut(index) else { continue };
            if *word == 0 {
                continue;
            }
            let bit = word.trailing_zeros();
            *word &= !(1 << bit);
            self.free_frames = self.free_frames.saturating_sub(1);
            self.next_word = index;
            let first_frame = (index as u64).saturating_mul(FRAMES_PER_WORD);
            return Some(Mfn(first_frame.saturating_add(u64::from(bit))));
        }
        None
    }

    /// Gives back a frame that [`FrameAllocator::allocate`] handed out.
    pub fn free(&mut self, mfn: Mfn) -> Result<(), FrameError> {
        let mask = 1 << (mfn.0 % FRAMES_PER_WORD);
        let (free, managed) = self.words_mut(mfn.0).ok_or(FrameError::OutOfRange(mfn))?;
        if *managed & mask == 0 {
            return Err(FrameError::NotManaged(mfn));
        }
        if *free & mask != 0 {
            return Err(FrameError::DoubleFree(mfn));
        }
        *free |= mask;
        self.free_frames = self.free_frames.saturating_add(1);
        Ok(())
    }

    /// Frames free right now.
    pub const fn free_frames(&self) -> u64 {
        self.free_frames
    }

    /// Frames ever added, free or allocated.
    pub const fn managed_frames(&self) -> u64 {
        self.managed_frames
    }

    /// Whether `mfn` is free; frames beyond the capacity never are.
    pub fn is_free(&self, mfn: Mfn) -> bool {
        Self::bit(&self.free, mfn)
    }

    /// Whether `mfn` was ever added to the allocator.
    pub fn is_managed(&self, mfn: Mfn) -> bool {
        Self::bit(&self.managed, mfn)
    }

    fn bit(bitmap: &[u64; WORDS], mfn: Mfn) -> bool {
        let index = usize::try_from(mfn.0 / FRAMES_PER_WORD).ok();
        index
            .and_then(|index| bitmap.get(index))
            .is_some_and(|word| word & (1 << (mfn.0 % FRAMES_PER_WORD)) != 0)
    }

    /// The free and managed words holding `frame`, if it is within the capacity.
    fn words_mut(&mut self, frame: u64) -> Option<(&mut u64, &mut u64)> {
        let index = usize::try_from(frame / FRAMES_PER_WORD).ok()?;
        Some((self.free.get_mut(index)?, self.managed.get_mut(index)?))
    }
}

impl<const WORDS: usize> Default for FrameAllocator<WORDS> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::boot::memory_map::{MemoryMap, RegionKind};
    use crate::mm::mfn::PAGE_SIZE;
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use std::string::ToString;
    use xen_abi::hvm_start_info::{HvmMemmapTableEntry, XEN_HVM_MEMMAP_TYPE_ACPI, XEN_HVM_MEMMAP_TYPE_RAM};

    /// Proves that the allocator can be built at compile time, as a `static` needs.
    static EMPTY: FrameAllocator<4> = FrameAllocator::new();

    /// Frames `first..end` as a physical range.
    pub(in crate::mm) fn frames(first: u64, end: u64) -> PhysRange {
        PhysRange::new(first * PAGE_SIZE, end * PAGE_SIZE)
    }

    /// Takes every free frame, checking none comes twice.
    pub(in crate::mm) fn drain<const WORDS: usize>(allocator: &mut FrameAllocator<WORDS>) -> BTreeSet<u64> {
        let mut taken = BTreeSet::new();
        while let Some(mfn) = allocator.allocate() {
            assert!(taken.insert(mfn.0), "{mfn} handed out twice");
        }
        taken
    }

    #[test]
    fn a_new_allocator_is_empty() {
        assert_eq!(FrameAllocator::<4>::CAPACITY_FRAMES, 256);
        assert_eq!(EMPTY.free_frames(), 0);
        assert_eq!(FrameAllocator::<4>::new().allocate(), None);
        assert_eq!(FrameAllocator::<0>::new().allocate(), None);
    }

    #[test]
    fn only_whole_frames_inside_a_range_are_added() {
        let mut allocator = FrameAllocator::<1>::new();
        let added = allocator.add_free_range(PhysRange::new(0x1800, 0x5800));
        assert_eq!(
            added,
            AddedFrames {
                added: 3,
                already_managed: 0,
                beyond_capacity: 0
            }
        );
        assert_eq!(drain(&mut allocator), BTreeSet::from([2, 3, 4]));
        let nothing = allocator.add_free_range(PhysRange::new(0x1001, 0x1fff));
        assert_eq!(nothing, AddedFrames::default());
    }

    #[test]
    fn every_frame_is_handed_out_exactly_once() {
        let mut allocator = FrameAllocator::<3>::new();
        allocator.add_free_range(frames(5, 150));
        assert_eq!(allocator.free_frames(), 145);
        let taken = drain(&mut allocator);
        assert_eq!(taken, (5..150).collect());
        assert_eq!(allocator.free_frames(), 0);
        assert_eq!(allocator.allocate(), None);
    }

    #[test]
    fn adding_managed_frames_again_changes_nothing() {
        let mut allocator = FrameAllocator::<1>::new();
        allocator.add_free_range(frames(0, 4));
        let in_use = allocator.allocate().unwrap();
        let again = allocator.add_free_range(frames(2, 8));
        assert_eq!(
            again,
            AddedFrames {
                added: 4,
                already_managed: 2,
                beyond_capacity: 0
            }
        );
        let again = allocator.add_free_range(frames(0, 8));
        assert_eq!(again.already_managed, 8);
        assert!(!allocator.is_free(in_use), "re-adding must not free a frame in use");
        assert_eq!(allocator.free_frames(), 7);
        assert_eq!(allocator.managed_frames(), 8);
    }

    #[test]
    fn frames_beyond_capacity_are_counted_and_ignored() {
        let mut allocator = FrameAllocator::<1>::new();
        let added = allocator.add_free_range(frames(60, 80));
        assert_eq!(
            added,
            AddedFrames {
                added: 4,
                already_managed: 0,
                beyond_capacity: 16
            }
        );
        let beyond = allocator.add_free_range(PhysRange::new(u64::MAX - 0x5000, u64::MAX));
        assert_eq!(
            beyond,
            AddedFrames {
                added: 0,
                already_managed: 0,
                beyond_capacity: 4
            }
        );
        assert_eq!(drain(&mut allocator), BTreeSet::from([60, 61, 62, 63]));
        assert_eq!(allocator.free(Mfn(64)), Err(FrameError::OutOfRange(Mfn(64))));
        assert_eq!(
            allocator.free(Mfn(u64::MAX)),
            Err(FrameError::OutOfRange(Mfn(u64::MAX)))
        );
        assert!(!allocator.is_free(Mfn(u64::MAX)));
        allocator.free(Mfn(63)).unwrap();
        assert_eq!(allocator.allocate(), Some(Mfn(63)));
    }

    #[test]
    fn a_freed_frame_can_be_allocated_again() {
        let mut allocator = FrameAllocator::<2>::new();
        allocator.add_free_range(frames(0, 100));
        let taken = drain(&mut allocator);
        allocator.free(Mfn(7)).unwrap();
        allocator.free(Mfn(99)).unwrap();
        assert!(allocator.is_free(Mfn(7)));
        assert_eq!(allocator.free_frames(), 2);
        assert_eq!(drain(&mut allocator), BTreeSet::from([7, 99]));
        assert_eq!(taken.len(), 100);
    }

    #[test]
    fn a_double_free_is_detected() {
        let mut allocator = FrameAllocator::<1>::new();
        allocator.add_free_range(frames(0, 2));
        let mfn = allocator.allocate().unwrap();
        allocator.free(mfn).unwrap();
        assert_eq!(allocator.free(mfn), Err(FrameError::DoubleFree(mfn)));
        assert_eq!(allocator.free_frames(), 2);
    }

    #[test]
    fn freeing_a_frame_never_added_is_detected() {
        let mut allocator = FrameAllocator::<1>::new();
        allocator.add_free_range(frames(0, 2));
        allocator.add_free_range(frames(4, 6));
        assert_eq!(allocator.free(Mfn(3)), Err(FrameError::NotManaged(Mfn(3))));
        assert!(!allocator.is_managed(Mfn(3)) && allocator.is_managed(Mfn(4)));
        assert_eq!(allocator.free_frames(), 4);
    }

    #[test]
    fn reserved_and_non_ram_frames_are_never_handed_out() {
        let entry = |addr, size, kind| HvmMemmapTableEntry {
            addr,
            size,
            kind,
            reserved: 0,
        };
        let mut map = MemoryMap::from_firmware([
            entry(0, 0x9fc00, XEN_HVM_MEMMAP_TYPE_RAM),
            entry(0x10_0000, 0x30_0000, XEN_HVM_MEMMAP_TYPE_RAM),
            entry(0x20_0000, 0x1_8000, XEN_HVM_MEMMAP_TYPE_ACPI),
        ])
        .unwrap();
        let reservations = [
            PhysRange::new(0, 0x1000),
            PhysRange::new(0x10_0000, 0x18_0800),
            PhysRange::new(0x30_0000, 0x30_0001),
        ];
        for range in reservations {
            map.reserve(range, "test").unwrap();
        }
        let mut allocator = FrameAllocator::<{ 0x40_0000 / 4096 / 64 }>::new();
        let mut expected = 0;
        for range in map.usable_ranges() {
            let added = allocator.add_free_range(range);
            assert_eq!(added.added, range.len() / PAGE_SIZE);
            expected += added.added;
        }
        let taken = drain(&mut allocator);
        assert_eq!(taken.len() as u64, expected);
        for frame in taken {
            let mfn = Mfn(frame);
            let frame_range = PhysRange::from_start_size(mfn.address(), PAGE_SIZE);
            assert!(
                map.regions()
                    .any(|r| r.kind == RegionKind::Ram && r.range.contains_frame(mfn)),
                "{mfn} is not RAM"
            );
            assert!(
                !reservations.iter().any(|r| r.overlaps(&frame_range)),
                "{mfn} is reserved"
            );
        }
    }

    #[test]
    fn allocation_resumes_where_it_left_off_and_wraps_around() {
        let mut allocator = FrameAllocator::<4>::new();
        allocator.add_free_range(frames(0, 256));
        for expected in 0..200 {
            assert_eq!(allocator.allocate(), Some(Mfn(expected)));
        }
        allocator.free(Mfn(3)).unwrap();
        assert_eq!(allocator.allocate(), Some(Mfn(200)));
        for _ in 201..256 {
            allocator.allocate().unwrap();
        }
        assert_eq!(allocator.allocate(), Some(Mfn(3)));
        assert_eq!(allocator.allocate(), None);
    }

    #[test]
    fn errors_read_as_one_line() {
        assert_eq!(
            FrameError::DoubleFree(Mfn(0x12)).to_string(),
            "frame allocator: mfn 0x12 freed twice"
        );
        assert!(FrameError::NotManaged(Mfn(1)).to_string().contains("never added"));
        assert!(FrameError::OutOfRange(Mfn(1)).to_string().contains("capacity"));
    }

    #[derive(Clone, Debug)]
    enum Operation {
        Allocate,
        Free(u64),
        Add(u64, u64),
    }

    /// Frames the model allocator can track.
    const MODEL_CAPACITY: u64 = FrameAllocator::<2>::CAPACITY_FRAMES;

    fn operation() -> impl Strategy<Value = Operation> {
        let frame = 0..MODEL_CAPACITY + 8;
        prop_oneof![
            4 => Just(Operation::Allocate),
            3 => frame.clone().prop_map(Operation::Free),
            1 => (frame.clone(), 0u64..40).prop_map(|(first, count)| Operation::Add(first, count)),
        ]
    }

    proptest! {
        #[test]
        fn the_allocator_behaves_like_a_set_of_free_frames(
            operations in proptest::collection::vec(operation(), 0..300),
        ) {
            let mut allocator = FrameAllocator::<2>::new();
            let mut managed = BTreeSet::new();
            let mut free = BTreeSet::new();
            for operation in operations {
                match operation {
                    Operation::Allocate => match allocator.allocate() {
                        Some(mfn) => prop_assert!(free.remove(&mfn.0), "{} was not free", mfn),
                        None => prop_assert!(free.is_empty()),
                    },
                    Operation::Free(frame) => {
                        let expected = if frame >= MODEL_CAPACITY {
                            Err(FrameError::OutOfRange(Mfn(frame)))
                        } else if !managed.contains(&frame) {
                            Err(FrameError::NotManaged(Mfn(frame)))
                        } else if !free.insert(frame) {
                            Err(FrameError::DoubleFree(Mfn(frame)))
                        } else {
                            Ok(())
                        };
                        prop_assert_eq!(allocator.free(Mfn(frame)), expected);
                    }
                    Operation::Add(first, count) => {
                        let mut expected = AddedFrames::default();
                        for frame in first..first + count {
                            if frame >= MODEL_CAPACITY {
                                expected.beyond_capacity += 1;
                            } else if managed.insert(frame) {
                                free.insert(frame);
                                expected.added += 1;
                            } else {
                                expected.already_managed += 1;
                            }
                        }
                        prop_assert_eq!(allocator.add_free_range(frames(first, first + count)), expected);
                    }
                }
                prop_assert_eq!(allocator.free_frames(), free.len() as u64);
                prop_assert_eq!(allocator.managed_frames(), managed.len() as u64);
            }
            for frame in 0..MODEL_CAPACITY + 8 {
                prop_assert_eq!(allocator.is_free(Mfn(frame)), free.contains(&frame));
                prop_assert_eq!(allocator.is_managed(Mfn(frame)), managed.contains(&frame));
            }
        }
    }
}
