//! A transaction: the nodes it changed, kept apart from the store until it
//! commits, and the generation each node it touched had; it costs what it
//! touches, not a copy of the store.
//!
//! Reads in a transaction see its own changes, and the store for the rest.
//! Every node it reads or changes is recorded, the first time, with the
//! generation it had in the store (or its absence). Committing checks each
//! against the store: a node changed, created or removed since means
//! EAGAIN, and the client retries; otherwise everything it read is as it
//! read it, and its changes are applied at once. Changes to untouched nodes
//! do not conflict.

use super::caller::Caller;
use super::node::{Node, charge};
use super::node_store::NodeStore;
use super::quota::Quota;
use super::tree::Tree;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use xen_abi::xs_wire::XsdError;

/// Bytes one transaction may hold in all: its records and the nodes it
/// changed, each charged what it costs dom0's heap (see
/// [`Transaction::cost`]); this bounds the nodes it may touch too (Xen's
/// `transaction-nodes` quota, 1024), at fewer than 512. A real guest's
/// transaction touches tens of nodes; this allows some 390 reads of short
/// paths, or a few KiB of values, and keeps every domU's transactions
/// together within dom0's heap (see [`Quotas`](super::quotas::Quotas)).
pub const MAX_TRANSACTION_BYTES: usize = 32 << 10;
/// What a record of a touched or changed node costs beyond its path and
/// node: the map entry and its share of the map's own nodes.
pub const RECORD_COST: usize = 64;

/// An open transaction.
#[derive(Clone, Debug, Default)]
pub struct Transaction {
    /// Generation in the store of each touched node when first touched;
    /// `None`: absent.
    base: BTreeMap<String, Option<u64>>,
    /// The nodes the transaction changed, as it sees them; `None`: removed.
    changes: BTreeMap<String, Option<Node>>,
    /// Nodes and bytes each domain owns in the transaction's view beyond
    /// what it owns in the store.
    owned: BTreeMap<u16, (isize, isize)>,
    /// Generations handed out inside (the commit gives the store's).
    generation: u64,
    /// Bytes of the paths in `base`.
    touched_bytes: usize,
    /// Cost of `changes`, as of the last change.
    changes_cost: usize,
    /// It outgrew its limits while changing: only aborting is left.
    overflowed: bool,
}

/// What a changed node costs to keep.
fn node_cost(path: &str, node: &Option<Node>) -> usize {
    let held = node.as_ref().map_or(0, |node| {
        let children: usize = node.children.iter().map(|child| child.len() + RECORD_COST).sum();
        core::mem::size_of::<Node>() + charge(path, node) + children
    });
    RECORD_COST + path.len() + held
}

impl Transaction {
    /// A transaction that has touched nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// What the transaction holds of dom0's heap, in the bytes its limit
    /// counts: its records and the nodes it changed.
    pub fn cost(&self) -> usize {
        self.touched_bytes + self.base.len() * RECORD_COST + self.changes_cost
    }

    /// Records that the transaction depends on `path` as it is in `store`
    /// now; ENOSPC past [`MAX_TRANSACTION_BYTES`].
    pub fn touch(&mut self, store: &Tree, path: &str) -> Result<(), XsdError> {
        if self.overflowed {
            return Err(XsdError::ENOSPC);
        }
        if !self.base.contains_key(path) {
            if self.cost() + RECORD_COST + path.len() > MAX_TRANSACTION_BYTES {
                return Err(XsdError::ENOSPC);
            }
            self.record(store, path);
        }
        Ok(())
    }

    fn record(&mut self, store: &Tree, path: &str) {
        if !self.base.contains_key(path) {
            self.touched_bytes += path.len();
            let generation = store.get(path).map(|node| node.generation);
            self.base.insert(String::from(path), generation);
        }
    }

    /// Runs `read` on the transaction's view of `store` after recording
    /// `path`, which it depends on.
    pub fn read<T>(
        &mut self,
        store: &Tree,
        path: &str,
        read: impl FnOnce(&dyn NodeStore) -> Result<T, XsdError>,
    ) -> Result<T, XsdError> {
        self.touch(store, path)?;
        read(&View { tx: self, store })
    }

    /// Runs `change` on the transaction's view of `store`. A change that
    /// takes it past its limits gets ENOSPC, and so does everything after
    /// it but aborting: what it did cannot be told apart from the rest.
    pub fn edit<T>(
        &mut self,
        store: &Tree,
        change: impl FnOnce(&mut dyn NodeStore) -> Result<T, XsdError>,
    ) -> Result<T, XsdError> {
        if self.overflowed {
            return Err(XsdError::ENOSPC);
        }
        let result = change(&mut View { tx: self, store });
        self.changes_cost = self.changes.iter().map(|(path, node)| node_cost(path, node)).sum();
        if self.cost() > MAX_TRANSACTION_BYTES {
            self.overflowed = true;
            return Err(XsdError::ENOSPC);
        }
        result
    }

    /// Applies the transaction to `store` if nothing it touched changed
    /// there (EAGAIN otherwise) and the caller stays within `quota`
    /// (ENOSPC); the paths changed, for watches.
    pub fn commit(self, store: &mut Tree, caller: Caller, quota: Quota) -> Result<Vec<String>, XsdError> {
        if self.overflowed {
            return Err(XsdError::ENOSPC);
        }
        for (path, generation) in &self.base {
            if store.get(path).map(|node| node.generation) != *generation {
                return Err(XsdError::EAGAIN);
            }
        }
        if !caller.privileged {
            // Each change's charge was taken against the store as the
            // transaction touched it, which is still how the store is.
            let (nodes, bytes) = self.owned.get(&caller.domid).copied().unwrap_or((0, 0));
            let after = |owned: usize, delta: isize| owned as i128 + delta as i128;
            if after(store.owned_by(caller.domid), nodes) > quota.nodes as i128
                || after(store.bytes_owned_by(caller.domid), bytes) > quota.bytes as i128
            {
                return Err(XsdError::ENOSPC);
            }
        }
        let changed = self.changes.keys().cloned().collect();
        for (path, node) in self.changes {
            store.apply(&path, node);
        }
        Ok(changed)
    }
}

/// A transaction's view of the store: its own changes over the store's
/// nodes. Changing a node records it and keeps the transaction's version.
pub struct View<'t> {
    tx: &'t mut Transaction,
    store: &'t Tree,
}

impl View<'_> {
    /// Charges (or with `sign` -1, gives back) `node` to its owner.
    fn account(&mut self, path: &str, node: &Node, sign: isize) {
        let owned = self.tx.owned.entry(node.perms.owner()).or_insert((0, 0));
        owned.0 += sign;
        owned.1 += sign * charge(path, node) as isize;
    }
}

impl NodeStore for View<'_> {
    fn node(&self, path: &str) -> Option<&Node> {
        match self.tx.changes.get(path) {
            Some(changed) => changed.as_ref(),
            None => self.store.get(path),
        }
    }

    fn node_mut(&mut self, path: &str) -> Option<&mut Node> {
        if !self.tx.changes.contains_key(path) {
            let node = self.store.get(path)?.clone();
            self.tx.record(self.store, path);
            self.tx.changes.insert(String::from(path), Some(node));
        }
        self.tx.changes.get_mut(path)?.as_mut()
    }

    fn take(&mut self, path: &str) -> Option<Node> {
        self.tx.record(self.store, path);
        let node = match self.tx.changes.get_mut(path) {
            Some(changed) => changed.take(),
            None => {
                let node = self.store.get(path)?.clone();
                self.tx.changes.insert(String::from(path), None);
                Some(node)
            }
        }?;
        self.account(path, &node, -1);
        Some(node)
    }

    fn put(&mut self, path: &str, node: Node) {
        self.tx.record(self.store, path);
        self.account(path, &node, 1);
        self.tx.changes.insert(String::from(path), Some(node));
    }

    fn owned_by(&self, domid: u16) -> usize {
        let delta = self.tx.owned.get(&domid).map_or(0, |owned| owned.0);
        (self.store.owned_by(domid) as isize + delta).max(0) as usize
    }

    fn bytes_owned_by(&self, domid: u16) -> usize {
        let delta = self.tx.owned.get(&domid).map_or(0, |owned| owned.1);
        (self.store.bytes_owned_by(domid) as isize + delta).max(0) as usize
    }

    fn next_generation(&mut self) -> u64 {
        self.tx.generation += 1;
        self.tx.generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xenstore::permissions::Permissions;

    const DOM0: Caller = Caller {
        domid: 0,
        privileged: true,
    };

    #[test]
    fn changes_reach_the_store_only_on_commit() {
        let mut store = Tree::new();
        let mut tx = Transaction::new();
        tx.edit(&store, |view| view.write(DOM0, "/a/b", b"1", Quota::UNLIMITED))
            .unwrap();
        assert!(store.get("/a").is_none());
        let changed = tx.commit(&mut store, DOM0, Quota::UNLIMITED).unwrap();
        assert!(changed.contains(&String::from("/a/b")));
        assert_eq!(store.read(DOM0, "/a/b").unwrap(), b"1");
        assert!(store.get("/").unwrap().children.contains("a"));
    }

    /// Removals and creations inside a transaction are seen by its own
    /// reads, directory listings included, and by nobody else until it
    /// commits.
    #[test]
    fn a_transaction_sees_its_own_removals_and_creations_over_the_store() {
        let mut store = Tree::new();
        store.write(DOM0, "/d/a/x", b"1", Quota::UNLIMITED).unwrap();
        store.write(DOM0, "/d/b", b"2", Quota::UNLIMITED).unwrap();
        let mut tx = Transaction::new();
        tx.edit(&store, |view| view.rm(DOM0, "/d/a")).unwrap();
        tx.edit(&store, |view| view.write(DOM0, "/d/c/y", b"3", Quota::UNLIMITED))
            .unwrap();
        let listing = tx
            .read(&store, "/d", |view| view.directory(DOM0, "/d").cloned())
            .unwrap();
        assert_eq!(listing.into_iter().collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(
            tx.read(&store, "/d/a/x", |view| view.read(DOM0, "/d/a/x").map(<[u8]>::to_vec)),
            Err(XsdError::ENOENT)
        );
        assert_eq!(store.read(DOM0, "/d/a/x").unwrap(), b"1", "the store is untouched");
        assert!(store.get("/d/c").is_none());
        let mut changed = tx.commit(&mut store, DOM0, Quota::UNLIMITED).unwrap();
        changed.sort();
        assert_eq!(changed, ["/d", "/d/a", "/d/a/x", "/d/c", "/d/c/y"]);
        assert!(store.get("/d/a").is_none());
        assert_eq!(store.read(DOM0, "/d/c/y").unwrap(), b"3");
        assert_eq!(store.directory(DOM0, "/d").unwrap().len(), 2);
    }

    #[test]
    fn a_touched_node_changed_meanwhile_is_a_conflict() {
        let mut store = Tree::new();
        store.write(DOM0, "/x", b"0", Quota::UNLIMITED).unwrap();
        let mut tx = Transaction::new();
        let value = tx
            .read(&store, "/x", |view| view.read(DOM0, "/x").map(<[u8]>::to_vec))
            .unwrap();
        tx.edit(&store, |view| view.write(DOM0, "/y", &value, Quota::UNLIMITED))
            .unwrap();
        store.write(DOM0, "/x", b"1", Quota::UNLIMITED).unwrap();
        assert_eq!(tx.commit(&mut store, DOM0, Quota::UNLIMITED), Err(XsdError::EAGAIN));
        assert!(store.get("/y").is_none(), "nothing applied");
    }

    #[test]
    fn untouched_nodes_do_not_conflict_but_removal_and_creation_do() {
        let mut store = Tree::new();
        store.write(DOM0, "/x", b"0", Quota::UNLIMITED).unwrap();
        let mut tx = Transaction::new();
        tx.edit(&store, |view| view.write(DOM0, "/x", b"tx", Quota::UNLIMITED))
            .unwrap();
        store.write(DOM0, "/elsewhere", b"1", Quota::UNLIMITED).unwrap();
        tx.commit(&mut store, DOM0, Quota::UNLIMITED).unwrap();
        assert_eq!(store.read(DOM0, "/x").unwrap(), b"tx");
        // A node the transaction saw absent, created meanwhile.
        let mut tx = Transaction::new();
        tx.touch(&store, "/new").unwrap();
        tx.edit(&store, |view| view.write(DOM0, "/other", b"", Quota::UNLIMITED))
            .unwrap();
        store.write(DOM0, "/new", b"", Quota::UNLIMITED).unwrap();
        assert_eq!(tx.commit(&mut store, DOM0, Quota::UNLIMITED), Err(XsdError::EAGAIN));
        // A node it wrote, removed meanwhile.
        let mut tx = Transaction::new();
        tx.edit(&store, |view| view.write(DOM0, "/x", b"again", Quota::UNLIMITED))
            .unwrap();
        store.rm(DOM0, "/x").unwrap();
        assert_eq!(tx.commit(&mut store, DOM0, Quota::UNLIMITED), Err(XsdError::EAGAIN));
    }

    const TWO: Quota = Quota {
        nodes: 2,
        bytes: usize::MAX,
    };

    #[test]
    fn two_transactions_cannot_both_create_past_the_quota() {
        let mut store = Tree::new();
        store.mkdir(DOM0, "/local/domain/1", Quota::UNLIMITED).unwrap();
        store
            .set_perms(DOM0, "/local/domain/1", Permissions::owned_by(1), Quota::UNLIMITED)
            .unwrap();
        let d1 = Caller {
            domid: 1,
            privileged: false,
        };
        let mut first = Transaction::new();
        let mut second = Transaction::new();
        first
            .edit(&store, |view| view.write(d1, "/local/domain/1/a", b"", TWO))
            .unwrap();
        second
            .edit(&store, |view| view.write(d1, "/local/domain/1/b", b"", TWO))
            .unwrap();
        first.commit(&mut store, d1, TWO).unwrap();
        // The second touched /local/domain/1 (its children changed): a
        // conflict before the quota is even looked at; retried, the quota.
        assert_eq!(second.commit(&mut store, d1, TWO), Err(XsdError::EAGAIN));
        let mut retry = Transaction::new();
        assert_eq!(
            retry.edit(&store, |view| view.write(d1, "/local/domain/1/b", b"", TWO)),
            Err(XsdError::ENOSPC)
        );
    }
}
