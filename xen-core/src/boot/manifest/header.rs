//! The line every manifest starts with: [`HEADER`]. A file of its own so that
//! the reasons for refusing a manifest (`manifest_error`), which quote it, need
//! not import it from `manifest.rs`, which uses those reasons.

/// The format line every manifest starts with.
pub const HEADER: &str = "xen-core-manifest 1";
