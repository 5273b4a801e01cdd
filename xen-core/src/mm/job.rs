//! The page-table work kept between hypercall invocations: what each job
//! holds, and how many fit.
//!
//! Only the data: the frame table holds the jobs, and the logic that runs
//! them (`mmu_job`, `promote`, `demote`, `domain_teardown`) is methods of
//! the frame table, so it stays in files of its own that import this one.

use super::pending_stack::PendingStack;
use super::release_stack::ReleaseStack;
use super::teardown::Teardown;
use xen_abi::mmu::DomId;

/// Jobs kept at once: a running domain keeps at most one validation and one
/// release (a new validation first gives up its old one, and every request
/// finishes its releases first), and a destroyed one a teardown (whose own
/// release takes the place of the domain's), for every domain the table
/// can hold, and as many again for those being torn down.
pub const MAX_JOBS: usize = 4 * xen_abi::domain_builder::MAX_DOMAINS;

/// Work kept between invocations.
#[derive(Debug)]
pub(super) enum Job {
    /// Validating `stack[0]` for a typed reference of its level.
    Validate { owner: DomId, stack: PendingStack },
    /// Releasing the tables of `stack`.
    Release { owner: DomId, stack: ReleaseStack },
    /// Giving back a destroyed domain's frames.
    Relinquish { owner: DomId, progress: Relinquishing },
}

/// How far a teardown got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Relinquishing {
    /// The next frame to look at: below the frame count, pins are being
    /// dropped; above it, allocations.
    pub(super) next: u64,
    /// What it did so far.
    pub(super) teardown: Teardown,
}
