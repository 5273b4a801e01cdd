//! Why a memory map could not be built or extended.

use crate::boot::memory_map::limits::{MAX_REGIONS, MAX_RESERVATIONS};
use core::fmt;

/// Why a memory map could not be built or extended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryMapError {
    /// The firmware map has more than [`MAX_REGIONS`] entries or resolves into more.
    TooManyRegions,
    /// No byte of the firmware map is RAM that no other entry claims.
    NoRam,
    /// [`MAX_RESERVATIONS`] are recorded already; `what` did not fit.
    TooManyReservations {
        /// What the refused reservation was for.
        what: &'static str,
    },
}

impl fmt::Display for MemoryMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryMapError::TooManyRegions => {
                write!(f, "the firmware map has more than {MAX_REGIONS} regions")
            }
            MemoryMapError::NoRam => write!(f, "the firmware map has no RAM"),
            MemoryMapError::TooManyReservations { what } => {
                write!(
                    f,
                    "no room to reserve {what}: all {MAX_RESERVATIONS} reservations are taken"
                )
            }
        }
    }
}
