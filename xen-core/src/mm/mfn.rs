//! Machine frame numbers.

use core::fmt;
pub use xen_abi::page_table_entry::{PAGE_SHIFT, PAGE_SIZE};

/// A machine frame number: a host-physical address divided by [`PAGE_SIZE`].
///
/// A newtype so that machine frames cannot be mixed up with guest pseudo-physical
/// frame numbers or with byte addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mfn(pub u64);

impl Mfn {
    /// The frame that contains physical byte address `address`.
    pub const fn containing(address: u64) -> Self {
        Mfn(address >> PAGE_SHIFT)
    }

    /// The physical byte address of the frame's first byte.
    pub const fn address(self) -> u64 {
        self.0 << PAGE_SHIFT
    }
}

impl fmt::Display for Mfn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mfn {:#x}", self.0)
    }
}
