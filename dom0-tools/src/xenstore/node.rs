//! One node of the store: [`Node`], and what it costs its owner's byte
//! quota ([`charge`]). A file of its own so that the store's operations
//! ([`NodeStore`](super::node_store::NodeStore)), the store
//! ([`Tree`](super::tree::Tree)) and a transaction's view all use it
//! without importing each other.

use super::permissions::Permissions;
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

/// One node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Its value (any bytes).
    pub value: Vec<u8>,
    /// Who may read and write it.
    pub perms: Permissions,
    /// Its children's names.
    pub children: BTreeSet<String>,
    /// The generation of its last change.
    pub generation: u64,
}

/// Bytes a permission entry is charged (what it costs in memory).
pub const PERMISSION_BYTES: usize = 4;

/// What a node costs its owner's byte quota: its path, its value and its
/// permission list (each new child copies its parent's).
pub fn charge(path: &str, node: &Node) -> usize {
    path.len() + node.value.len() + node.perms.entries().len() * PERMISSION_BYTES
}
