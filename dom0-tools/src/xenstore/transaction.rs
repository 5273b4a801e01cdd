//! A transaction: a private copy of the store that the caller reads and
//! changes, committed only if nothing it touched changed meanwhile.
//!
//! Every node the transaction reads or changes is recorded, the first time,
//! with the generation it had (or its absence). Committing checks each
//! against the store: a node changed, created or removed since means
//! EAGAIN, and the client retries. Changes to untouched nodes do not
//! conflict.

use super::path;
use super::permissions::Permissions;
use super::tree::{Caller, Changed, Edit, Quota, Tree};
use super::wire::XsError;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

/// Nodes one transaction may depend on (read or change): each costs the
/// daemon memory until the end (Xen's `transaction-nodes` quota).
pub const MAX_TOUCHED: usize = 1024;
/// Bytes of path those records may hold in all: long paths are counted,
/// not only their number.
pub const MAX_TOUCHED_BYTES: usize = 64 << 10;

/// An open transaction.
#[derive(Clone, Debug)]
pub struct Transaction {
    tree: Tree,
    /// Generation of each touched node when first touched; `None`: absent.
    base: BTreeMap<String, Option<u64>>,
    /// Nodes the transaction changed.
    changed: BTreeSet<String>,
    /// Bytes of the paths in `base`.
    touched_bytes: usize,
}

impl Transaction {
    /// A transaction over a copy of `store`.
    pub fn begin(store: &Tree) -> Self {
        Transaction {
            tree: store.clone(),
            base: BTreeMap::new(),
            changed: BTreeSet::new(),
            touched_bytes: 0,
        }
    }

    /// The transaction's view, for reads (after [`Transaction::touch`]).
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Records that the transaction depends on `path` as it is now;
    /// ENOSPC past [`MAX_TOUCHED`] nodes or [`MAX_TOUCHED_BYTES`].
    pub fn touch(&mut self, path: &str) -> Result<(), XsError> {
        if !self.base.contains_key(path) {
            if self.base.len() >= MAX_TOUCHED || self.touched_bytes + path.len() > MAX_TOUCHED_BYTES {
                return Err(XsError::ENOSPC);
            }
            self.touched_bytes += path.len();
            let generation = self.tree.get(path).map(|node| node.generation);
            self.base.insert(String::from(path), generation);
        }
        Ok(())
    }

    /// Records `path` and the ancestors a write of it creates or changes.
    fn touch_for_write(&mut self, path: &str) -> Result<(), XsError> {
        let missing = self.tree.missing(path);
        let bytes: usize = missing.iter().map(|at| at.len()).sum::<usize>() + path.len();
        if self.base.len() + missing.len() + 2 > MAX_TOUCHED || self.touched_bytes + bytes > MAX_TOUCHED_BYTES {
            return Err(XsError::ENOSPC);
        }
        let anchor = missing.first().and_then(|first| path::parent(first));
        for at in missing.into_iter().chain(anchor) {
            self.touch(at)?;
        }
        self.touch(path)
    }

    fn record(&mut self, changed: Changed) -> Changed {
        self.changed.extend(changed.iter().cloned());
        changed
    }

    /// Applies the transaction to `store` if nothing it touched changed
    /// there (EAGAIN otherwise) and the caller stays within `quota` nodes
    /// (ENOSPC); the paths changed, for watches.
    pub fn commit(self, store: &mut Tree, caller: Caller, quota: Quota) -> Result<Vec<String>, XsError> {
        for (path, generation) in &self.base {
            if store.get(path).map(|node| node.generation) != *generation {
                return Err(XsError::EAGAIN);
            }
        }
        if !caller.privileged {
            // What the caller owns in the store and would own after: each
            // changed node's count and bytes, before and after.
            let owned = |tree: &Tree, path: &str| match tree.get(path) {
                Some(node) if node.perms.owner() == caller.domid => (1, super::tree::charge(path, node)),
                _ => (0, 0),
            };
            let mut nodes = store.owned_by(caller.domid) as i128;
            let mut bytes = store.bytes_owned_by(caller.domid) as i128;
            for path in &self.changed {
                let (old_nodes, old_bytes) = owned(store, path);
                let (new_nodes, new_bytes) = owned(&self.tree, path);
                nodes += new_nodes - old_nodes;
                bytes += new_bytes as i128 - old_bytes as i128;
            }
            if nodes > quota.nodes as i128 || bytes > quota.bytes as i128 {
                return Err(XsError::ENOSPC);
            }
        }
        for path in &self.changed {
            store.adopt(&self.tree, path);
        }
        Ok(self.changed.into_iter().collect())
    }
}

impl Edit for Transaction {
    /// [`Tree::write`] in the transaction.
    fn write(&mut self, caller: Caller, path: &str, value: &[u8], quota: Quota) -> Result<Changed, XsError> {
        self.touch_for_write(path)?;
        let changed = self.tree.write(caller, path, value, quota)?;
        Ok(self.record(changed))
    }

    /// [`Tree::mkdir`] in the transaction.
    fn mkdir(&mut self, caller: Caller, path: &str, quota: Quota) -> Result<Changed, XsError> {
        self.touch_for_write(path)?;
        let changed = self.tree.mkdir(caller, path, quota)?;
        Ok(self.record(changed))
    }

    /// [`Tree::rm`] in the transaction.
    fn rm(&mut self, caller: Caller, path: &str) -> Result<Changed, XsError> {
        self.touch(path)?;
        if let Some(parent) = path::parent(path) {
            self.touch(parent)?;
        }
        for below in self.tree.subtree(path) {
            self.touch(&below)?;
        }
        let changed = self.tree.rm(caller, path)?;
        Ok(self.record(changed))
    }

    /// [`Tree::set_perms`] in the transaction.
    fn set_perms(&mut self, caller: Caller, path: &str, perms: Permissions, quota: Quota) -> Result<Changed, XsError> {
        self.touch(path)?;
        let changed = self.tree.set_perms(caller, path, perms, quota)?;
        Ok(self.record(changed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOM0: Caller = Caller {
        domid: 0,
        privileged: true,
    };

    #[test]
    fn changes_reach_the_store_only_on_commit() {
        let mut store = Tree::new();
        let mut tx = Transaction::begin(&store);
        tx.write(DOM0, "/a/b", b"1", Quota::UNLIMITED).unwrap();
        assert!(store.get("/a").is_none());
        let changed = tx.commit(&mut store, DOM0, Quota::UNLIMITED).unwrap();
        assert!(changed.contains(&String::from("/a/b")));
        assert_eq!(store.read(DOM0, "/a/b").unwrap(), b"1");
        assert!(store.get("/").unwrap().children.contains("a"));
    }

    #[test]
    fn a_touched_node_changed_meanwhile_is_a_conflict() {
        let mut store = Tree::new();
        store.write(DOM0, "/x", b"0", Quota::UNLIMITED).unwrap();
        let mut tx = Transaction::begin(&store);
        tx.touch("/x").unwrap();
        let value = tx.tree().read(DOM0, "/x").unwrap().to_vec();
        tx.write(DOM0, "/y", &value, Quota::UNLIMITED).unwrap();
        store.write(DOM0, "/x", b"1", Quota::UNLIMITED).unwrap();
        assert_eq!(tx.commit(&mut store, DOM0, Quota::UNLIMITED), Err(XsError::EAGAIN));
        assert!(store.get("/y").is_none(), "nothing applied");
    }

    #[test]
    fn untouched_nodes_do_not_conflict_but_removal_and_creation_do() {
        let mut store = Tree::new();
        store.write(DOM0, "/x", b"0", Quota::UNLIMITED).unwrap();
        let mut tx = Transaction::begin(&store);
        tx.write(DOM0, "/x", b"tx", Quota::UNLIMITED).unwrap();
        store.write(DOM0, "/elsewhere", b"1", Quota::UNLIMITED).unwrap();
        tx.commit(&mut store, DOM0, Quota::UNLIMITED).unwrap();
        assert_eq!(store.read(DOM0, "/x").unwrap(), b"tx");
        // A node the transaction saw absent, created meanwhile.
        let mut tx = Transaction::begin(&store);
        tx.touch("/new").unwrap();
        tx.write(DOM0, "/other", b"", Quota::UNLIMITED).unwrap();
        store.write(DOM0, "/new", b"", Quota::UNLIMITED).unwrap();
        assert_eq!(tx.commit(&mut store, DOM0, Quota::UNLIMITED), Err(XsError::EAGAIN));
        // A node it wrote, removed meanwhile.
        let mut tx = Transaction::begin(&store);
        tx.write(DOM0, "/x", b"again", Quota::UNLIMITED).unwrap();
        store.rm(DOM0, "/x").unwrap();
        assert_eq!(tx.commit(&mut store, DOM0, Quota::UNLIMITED), Err(XsError::EAGAIN));
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
        let mut first = Transaction::begin(&store);
        let mut second = Transaction::begin(&store);
        first.write(d1, "/local/domain/1/a", b"", TWO).unwrap();
        second.write(d1, "/local/domain/1/b", b"", TWO).unwrap();
        first.commit(&mut store, d1, TWO).unwrap();
        // The second touched /local/domain/1 (its children changed): a
        // conflict before the quota is even looked at; retried, the quota.
        assert_eq!(second.commit(&mut store, d1, TWO), Err(XsError::EAGAIN));
        let mut retry = Transaction::begin(&store);
        assert_eq!(retry.write(d1, "/local/domain/1/b", b"", TWO), Err(XsError::ENOSPC));
    }
}
