//! The limits on what a domain may make xenstored hold, and why they fit
//! dom0's heap.

/// Limits on what a domain may make xenstored hold. They are sized so that
/// every domain at its limits still fits a small dom0 heap (a few MiB):
/// whatever a domU does, dom0 does not run out of memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// Nodes a domain may own.
    pub nodes: usize,
    /// Bytes of paths and values a domain may own.
    pub bytes: usize,
    /// Bytes in one node's value.
    pub value_size: usize,
    /// Watches per connection.
    pub watches: usize,
    /// Entries in a node's permission list a domU may set (C xenstored's
    /// default perms quota): each is charged, and copied to every child.
    pub perms_per_node: usize,
    /// Bytes in a watch token.
    pub token_size: usize,
    /// Open transactions per connection.
    pub transactions: usize,
    /// Open transactions in all (each is a copy of the store).
    pub all_transactions: usize,
    /// Bytes of replies and events queued for a connection that does not
    /// read them; past this its oldest watch events are dropped.
    pub queued_bytes: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            nodes: 256,
            bytes: 64 << 10,
            value_size: 2048,
            watches: 32,
            perms_per_node: 5,
            token_size: 256,
            transactions: 1,
            // One for each domU xen-core can run (7): no domU's open
            // transaction can keep another from starting one, and seven
            // copies of a store held to these quotas fit dom0's heap.
            all_transactions: 7,
            queued_bytes: 64 << 10,
        }
    }
}
