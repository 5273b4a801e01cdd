//! Boot-time logic: what the loader hands over and what we make of it.

pub mod bundle;
pub mod command_line;
pub mod manifest;
pub mod memory_map;
pub mod tar;
