//! Guest pseudo-physical frame numbers.

use core::fmt;

/// A guest's pseudo-physical frame number: the index of a page in the
/// guest's own view of its memory, which its p2m list maps to an [`Mfn`].
///
/// A newtype so that it cannot be used where a machine frame is meant: a
/// PV guest handing one to the hypervisor as the other is a classic bug.
///
/// [`Mfn`]: super::Mfn
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pfn(pub u64);

impl Pfn {
    /// The M2P value for "no guest frame" (all ones).
    pub const INVALID: Pfn = Pfn(u64::MAX);
}

impl fmt::Display for Pfn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pfn {:#x}", self.0)
    }
}
