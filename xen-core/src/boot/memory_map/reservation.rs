//! Memory the hypervisor keeps for itself: [`Reservation`]. A file of its own so
//! that the carving of usable ranges (`usable_ranges`) reads reservations without
//! importing `memory_map.rs`, which records them.

use crate::mm::PhysRange;

/// Memory the hypervisor keeps for itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// The reserved addresses (never empty).
    pub range: PhysRange,
    /// What lives there, for boot logs.
    pub what: &'static str,
}
