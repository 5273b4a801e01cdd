//! What tearing a domain down left behind.
//!
//! Only the counts, which a teardown's job keeps between scheduling passes
//! (`job`) and the domain layer reports: the teardown itself is frame-table
//! logic, and stays in `domain_teardown`.

/// What tearing a domain down left behind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Teardown {
    /// Frames that became free.
    pub freed: u64,
    /// Frames still referenced from elsewhere (another domain's mapping, a
    /// handle not yet put); each becomes free when its last reference goes,
    /// and is then queued for the allocator
    /// ([`FrameTable::take_freed_orphans`](super::FrameTable::take_freed_orphans)).
    pub still_referenced: u64,
}
