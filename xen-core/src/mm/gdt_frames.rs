//! The frames of a guest GDT as the CPU is to see them.

use super::Mfn;
use xen_abi::trap::FIRST_RESERVED_GDT_PAGE;

/// One entry per guest GDT page: its frame, or `None` where the guest gave
/// none (the descriptor window shows an empty page there).
pub type GdtFrames = [Option<Mfn>; FIRST_RESERVED_GDT_PAGE];
