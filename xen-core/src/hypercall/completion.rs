//! How a hypercall handler finished.

use crate::mm::batch_progress::MmuBatch;

/// How a hypercall finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// Return this value in RAX.
    Value(i64),
    /// The frame already holds the state to resume (`iret`): leave RAX alone.
    FrameReplaced,
    /// Preempted: resume by re-executing the hypercall with these arguments
    /// (the caller rewinds RIP over the `syscall`, or, in a multicall, stores
    /// them in the entry).
    Continue([u64; 5]),
}

impl From<MmuBatch> for Completion {
    /// A page-table batch's outcome: done returns 0, preempted re-runs with
    /// the arguments the batch left.
    fn from(batch: MmuBatch) -> Completion {
        match batch {
            MmuBatch::Done => Completion::Value(0),
            MmuBatch::Continue(args) => Completion::Continue(args),
        }
    }
}
