//! How much a memory map holds: [`MAX_REGIONS`] and [`MAX_RESERVATIONS`]. A file
//! of their own because the reasons for refusing a map (`memory_map_error`) name
//! them, and should not import them from `memory_map.rs`, which uses those reasons.

/// Most regions a map holds, both as firmware entries and after resolving overlaps.
pub const MAX_REGIONS: usize = 128;
/// Most reservations a map records.
pub const MAX_RESERVATIONS: usize = 32;
