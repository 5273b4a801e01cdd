//! What one operation lets an unprivileged domain own: [`Quota`], the
//! part of xenstored's [`Quotas`](super::quotas::Quotas) the store's
//! operations check. A file of its own so that those operations
//! ([`NodeStore`](super::node_store::NodeStore)) and the store
//! ([`Tree`](super::tree::Tree)) both use it without importing each other.

/// What an unprivileged domain may own in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Nodes.
    pub nodes: usize,
    /// Bytes of paths and values together, which is what the store's
    /// memory grows with.
    pub bytes: usize,
}

impl Quota {
    /// No limit (the privileged, and tests that are not about quotas).
    pub const UNLIMITED: Quota = Quota {
        nodes: usize::MAX,
        bytes: usize::MAX,
    };
}
