//! xenstored's logic, independent of how messages arrive: the tree with
//! its permissions ([`tree`]), transactions, watches and quotas, and the
//! request handling of the wire protocol ([`wire`], `io/xs_wire.h`).

pub mod caller;
pub mod framing;
pub mod node;
pub mod node_store;
pub mod outbox;
pub mod path;
pub mod permissions;
pub mod quota;
#[cfg(test)]
mod quota_tests;
pub mod quotas;
pub mod ring_server;
#[cfg(test)]
mod ring_server_tests;
#[cfg(test)]
mod test_world;
pub mod transaction;
pub mod tree;
pub mod watches;
pub mod wire;
pub mod xenstored;
#[cfg(test)]
mod xenstored_tests;
