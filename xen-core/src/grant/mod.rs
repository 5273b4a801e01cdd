//! Grant tables, version 1 (`grant_table.h`): how a domain lets another map
//! or copy one of its frames.
//!
//! The granter writes entries (frame, grantee, flags) in grant frames the
//! hypervisor shares with it; [`GrantTable`] holds those frames and the
//! grants in use, marking each entry READING/WRITING while it is mapped so
//! the granter's revocation (a compare-and-swap of the flags to 0) fails
//! until the last mapping goes. A mapper's mappings are its [`MapTrack`];
//! the page-table side is `crate::mm::grant_mapping`, the hypercall
//! `crate::hypercall::grant_table_op`.

pub mod grant_table;
pub mod maptrack;

pub use grant_table::{ActiveGrant, GrantTable};
pub use maptrack::{MapTrack, MapTrackEntry};
