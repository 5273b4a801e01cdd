//! The tables of a validation under way (`promote`), root first: where the
//! scan of each stands.
//!
//! Only the data, which a job keeps between invocations (`job`): the
//! validation itself is frame-table logic, and stays in `promote`.

use super::Mfn;
use super::page_type::TableLevel;
use heapless::Vec;

/// Tables pending at once: one per level.
pub(super) const MAX_DEPTH: usize = 4;

/// A table whose scan is under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pending {
    pub(super) mfn: Mfn,
    pub(super) level: TableLevel,
    /// The next entry to look at; entries before it hold their references,
    /// and so does this one while the child it names is on the stack above.
    pub(super) next: usize,
}

/// The tables of one validation, root first.
pub(super) type PendingStack = Vec<Pending, MAX_DEPTH>;
