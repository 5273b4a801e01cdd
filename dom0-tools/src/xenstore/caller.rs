//! Who is asking: [`Caller`], the domain every store operation checks
//! access for. A file of its own so that the store's operations
//! ([`NodeStore`](super::node_store::NodeStore)) and the store
//! ([`Tree`](super::tree::Tree)) both use it without importing each other.

/// Who is asking: a domain, privileged (dom0) or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The domain.
    pub domid: u16,
    /// Whether it may do anything (dom0).
    pub privileged: bool,
}
