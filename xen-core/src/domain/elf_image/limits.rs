//! How large an image may be: [`MAX_LOAD_SEGMENTS`] and [`MAX_IMAGE_BYTES`]. A file
//! of their own because the segment checks (`load_segment`) enforce them and the
//! reasons for refusing an image (`image_error`) name them, and neither should
//! import them from `elf_image.rs`, which uses both.

/// Most loadable segments an image may have; kernels have two to four.
pub const MAX_LOAD_SEGMENTS: usize = 16;

/// Most bytes the loadable segments may span in physical addresses, where they load.
///
/// Every byte of the span becomes guest memory the builder must allocate and map
/// before the guest runs. Linux and Mini-OS images need a few tens of MiB; 1 GiB
/// leaves room while keeping a hostile header from asking for the whole machine, and
/// keeps every sum of sizes far from overflowing.
pub const MAX_IMAGE_BYTES: u64 = 1 << 30;
