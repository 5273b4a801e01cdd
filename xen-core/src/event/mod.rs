//! Event channels, the two-level ABI: ports, their bindings, and raising them.
//!
//! A port is a number local to one domain ([`port_table`]); what it is bound
//! to lives in [`channel`]; raising it sets bits in the domain's shared_info
//! ([`two_level`]) and may wake its vCPU. The `event_channel_op` hypercall that
//! drives all of this is in `crate::hypercall`.

pub mod channel;
pub mod close;
pub mod console_virq;
pub mod port_table;
mod raise;
pub mod two_level;

pub use channel::{Channel, Port, PortEntry};
pub use port_table::PortTable;
pub use two_level::{Raised, TwoLevel};
