//! Whether a vCPU wants the CPU, and what it waits for when it does not.

use crate::event::Port;

/// A vCPU's scheduling state as its domain sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunState {
    /// Running or ready to run.
    #[default]
    Runnable,
    /// `SCHEDOP_block`: waits for an event upcall (or its timer).
    Blocked,
    /// `SCHEDOP_poll`: waits for one port to become pending, for any
    /// upcall, or for the poll timeout.
    Polling {
        /// The one port polled; `None` when several are (any event wakes).
        port: Option<Port>,
    },
}

impl RunState {
    /// Whether the scheduler may pick it.
    pub fn is_runnable(self) -> bool {
        self == RunState::Runnable
    }
}
