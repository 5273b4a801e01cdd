//! The tables of a release under way (`demote`), root first: where the
//! release of each stands and what becomes of it once done, and the release
//! that undoes a validation given up.
//!
//! Only the data, which a job keeps between invocations (`job`): the
//! release itself is frame-table logic, and stays in `demote`.

use super::Mfn;
use super::page_type::TableLevel;
use super::pending_stack::{MAX_DEPTH, PendingStack};
use heapless::Vec;

/// A table whose entries are being released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Releasing {
    pub(super) mfn: Mfn,
    pub(super) level: TableLevel,
    pub(super) next: usize,
    pub(super) end: usize,
    pub(super) finish: Finish,
}

/// What is done with a table once its entries are released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Finish {
    /// It lost its last typed reference: it becomes untyped, and the
    /// general reference the release held (its parent entry's, or the
    /// job's) is dropped.
    Demoted,
    /// Its validation was given up: its typed reference and the general
    /// reference it was reached by are dropped.
    Abandoned,
}

/// The tables of one release, root first.
pub(super) type ReleaseStack = Vec<Releasing, MAX_DEPTH>;

/// The release that undoes a validation given up with `stack` as it stood:
/// each table's accepted entries, innermost table first (the entry under
/// way in a parent is its child's, dropped with the child).
pub(super) fn unwinding(stack: &PendingStack) -> ReleaseStack {
    stack
        .iter()
        .map(|pending| Releasing {
            mfn: pending.mfn,
            level: pending.level,
            next: 0,
            end: pending.next,
            finish: Finish::Abandoned,
        })
        .collect()
}
