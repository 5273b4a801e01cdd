//! Which page of the shared area is what (the table in [`super`]): numbers
//! only, below the accessor (`arch::shared_page`), which sizes the area by
//! them.

use core::ops::Range;

/// shared_info.
pub const SHARED_INFO: usize = 0;
/// The grant table's frames.
pub const GRANT_TABLE: Range<usize> = 1..5;
/// Our console ring.
pub const CONSOLE_RING: usize = 5;
/// Our xenstore ring.
pub const XENSTORE_RING: usize = 6;
/// Windows for other domains' granted frames.
pub const WINDOWS: Range<usize> = 7..23;
/// Pages in the area.
pub const PAGES: usize = 23;
