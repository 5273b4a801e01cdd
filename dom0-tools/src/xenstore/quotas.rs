//! The limits on what a domain may make xenstored hold, and why they fit
//! dom0's heap.

/// Limits on what a domain may make xenstored hold. They are sized so that
/// every domU at all its limits at once still fits dom0's 8 MiB heap:
/// whatever a domU does, dom0 does not run out of memory. The worst case,
/// seven domUs each with its nodes and bytes, its watches, its ten
/// transactions full and its output queued to the quota, is measured by
/// `tests/worst_case_heap.rs` (about 4 MiB).
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
    /// Open transactions in all; each holds at most
    /// [`MAX_TRANSACTION_BYTES`](super::transaction::MAX_TRANSACTION_BYTES).
    pub all_transactions: usize,
    /// Bytes of replies and events queued for a connection that does not
    /// read them, each charged its record too: its requests are not taken
    /// while the largest reply would not fit, and past this its oldest
    /// watch events are dropped.
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
            // C xenstored's default: real guests open several at once.
            transactions: 10,
            // Ten for each domU xen-core can run (7): no domU's open
            // transactions can keep another from starting its own, and
            // all of them full (32 KiB each) take 2.2 MiB of dom0's heap.
            all_transactions: 70,
            queued_bytes: 64 << 10,
        }
    }
}
