//! The store: nodes by absolute path, each with a value, permissions, its
//! children's names and the generation of its last change, and what each
//! domain owns. The operations of the protocol are [`NodeStore`]'s.
//!
//! A generation counter orders changes: a transaction conflicts when a
//! node it touched changed after it touched it.
//!
//! The node itself and what it is charged are in [`node`](super::node),
//! who asks in [`caller`](super::caller) and the limits in
//! [`quota`](super::quota): the operations in
//! [`node_store`](super::node_store) use them too, and this file
//! implements those operations, so it imports them and not the other way.

use super::node::{Node, PERMISSION_BYTES, charge};
use super::node_store::NodeStore;
use super::permissions::Permissions;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

/// The tree.
#[derive(Clone, Debug)]
pub struct Tree {
    nodes: BTreeMap<String, Node>,
    /// The last generation handed out.
    generation: u64,
    /// Nodes each domain owns, for the quota.
    owned: BTreeMap<u16, usize>,
    /// Bytes of path and value each domain owns, for the quota.
    owned_bytes: BTreeMap<u16, usize>,
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

impl Tree {
    /// The tree xenstored starts with: `/`, `/local`, `/local/domain`,
    /// owned by dom0, readable by nobody else.
    pub fn new() -> Self {
        let mut tree = Tree {
            nodes: BTreeMap::new(),
            generation: 0,
            owned: BTreeMap::new(),
            owned_bytes: BTreeMap::new(),
        };
        for (path, child) in [
            ("/", Some("local")),
            ("/local", Some("domain")),
            ("/local/domain", None),
        ] {
            let mut node = Node {
                value: Vec::new(),
                perms: Permissions::owned_by(0),
                children: BTreeSet::new(),
                generation: 0,
            };
            if let Some(child) = child {
                node.children.insert(String::from(child));
            }
            tree.insert(String::from(path), node);
        }
        tree
    }

    /// The node at `path`.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// The last generation handed out.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Every node, in path order.
    pub fn nodes(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    fn insert(&mut self, path: String, node: Node) {
        let size = charge(&path, &node);
        *self.owned.entry(node.perms.owner()).or_insert(0) += 1;
        *self.owned_bytes.entry(node.perms.owner()).or_insert(0) += size;
        let key_len = path.len();
        if let Some(old) = self.nodes.insert(path, node) {
            let size = key_len + old.value.len() + old.perms.entries().len() * PERMISSION_BYTES;
            self.disown(old.perms.owner(), size);
        }
    }

    fn disown(&mut self, owner: u16, size: usize) {
        if let Some(count) = self.owned.get_mut(&owner) {
            *count -= 1;
            if *count == 0 {
                self.owned.remove(&owner);
            }
        }
        if let Some(bytes) = self.owned_bytes.get_mut(&owner) {
            *bytes = bytes.saturating_sub(size);
            if *bytes == 0 {
                self.owned_bytes.remove(&owner);
            }
        }
    }

    /// Applies a transaction's version of the node at `path` (`None`:
    /// removed), with a fresh generation.
    pub fn apply(&mut self, path: &str, node: Option<Node>) {
        self.take(path);
        if let Some(mut node) = node {
            node.generation = self.next_generation();
            self.insert(String::from(path), node);
        }
    }
}

impl NodeStore for Tree {
    fn node(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    fn node_mut(&mut self, path: &str) -> Option<&mut Node> {
        self.nodes.get_mut(path)
    }

    fn take(&mut self, path: &str) -> Option<Node> {
        let node = self.nodes.remove(path)?;
        self.disown(node.perms.owner(), charge(path, &node));
        Some(node)
    }

    fn put(&mut self, path: &str, node: Node) {
        self.insert(String::from(path), node);
    }

    fn owned_by(&self, domid: u16) -> usize {
        self.owned.get(&domid).copied().unwrap_or(0)
    }

    fn bytes_owned_by(&self, domid: u16) -> usize {
        self.owned_bytes.get(&domid).copied().unwrap_or(0)
    }

    fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xenstore::caller::Caller;
    use crate::xenstore::permissions::Permission;
    use crate::xenstore::quota::Quota;
    use xen_abi::xs_wire::XsdError;

    const DOM0: Caller = Caller {
        domid: 0,
        privileged: true,
    };
    const D1: Caller = Caller {
        domid: 1,
        privileged: false,
    };
    const D2: Caller = Caller {
        domid: 2,
        privileged: false,
    };

    const THREE: Quota = Quota {
        nodes: 3,
        bytes: usize::MAX,
    };

    /// dom0 makes /local/domain/1 and gives it to d1, as the toolstack does.
    fn with_home() -> Tree {
        let mut tree = Tree::new();
        tree.mkdir(DOM0, "/local/domain/1", Quota::UNLIMITED).unwrap();
        tree.set_perms(DOM0, "/local/domain/1", Permissions::owned_by(1), Quota::UNLIMITED)
            .unwrap();
        tree
    }

    #[test]
    fn writes_create_parents_and_read_back() {
        let mut tree = with_home();
        let changed = tree
            .write(D1, "/local/domain/1/device/vif/0", b"x", Quota::UNLIMITED)
            .unwrap();
        assert_eq!(
            changed,
            [
                "/local/domain/1",
                "/local/domain/1/device",
                "/local/domain/1/device/vif",
                "/local/domain/1/device/vif/0"
            ]
        );
        assert_eq!(tree.read(D1, "/local/domain/1/device/vif/0").unwrap(), b"x");
        assert_eq!(tree.read(D1, "/local/domain/1/device").unwrap(), b"");
        assert_eq!(tree.get("/local/domain/1/device").unwrap().perms.owner(), 1);
        assert!(tree.directory(D1, "/local/domain/1/device").unwrap().contains("vif"));
        assert_eq!(tree.owned_by(1), 4);
    }

    #[test]
    fn other_domains_are_kept_out_unless_permitted() {
        let mut tree = with_home();
        tree.write(D1, "/local/domain/1/secret", b"s", Quota::UNLIMITED)
            .unwrap();
        assert_eq!(tree.read(D2, "/local/domain/1/secret"), Err(XsdError::EACCES));
        assert_eq!(
            tree.write(D2, "/local/domain/1/secret", b"x", Quota::UNLIMITED),
            Err(XsdError::EACCES)
        );
        assert_eq!(
            tree.write(D2, "/local/domain/1/new", b"x", Quota::UNLIMITED),
            Err(XsdError::EACCES)
        );
        assert_eq!(tree.rm(D2, "/local/domain/1/secret"), Err(XsdError::EACCES));
        assert_eq!(
            tree.write(D1, "/local/other", b"x", Quota::UNLIMITED),
            Err(XsdError::EACCES),
            "dom0's tree"
        );
        // d1 lets d2 read.
        let perms = Permissions::from_entries(alloc::vec![
            Permission::parse(b"n1").unwrap(),
            Permission::parse(b"r2").unwrap(),
        ])
        .unwrap();
        tree.set_perms(D1, "/local/domain/1/secret", perms.clone(), Quota::UNLIMITED)
            .unwrap();
        assert_eq!(tree.read(D2, "/local/domain/1/secret").unwrap(), b"s");
        assert_eq!(
            tree.write(D2, "/local/domain/1/secret", b"x", Quota::UNLIMITED),
            Err(XsdError::EACCES)
        );
        // Only the owner sets permissions, and it may not give the node away.
        assert_eq!(
            tree.set_perms(D2, "/local/domain/1/secret", perms, Quota::UNLIMITED),
            Err(XsdError::EACCES)
        );
        assert_eq!(
            tree.set_perms(D1, "/local/domain/1/secret", Permissions::owned_by(2), Quota::UNLIMITED),
            Err(XsdError::EACCES)
        );
        assert_eq!(tree.read(DOM0, "/local/domain/1/secret").unwrap(), b"s");
    }

    #[test]
    fn rm_removes_subtrees_and_tolerates_absent_leaves() {
        let mut tree = with_home();
        tree.write(D1, "/local/domain/1/a/b/c", b"1", Quota::UNLIMITED).unwrap();
        let changed = tree.rm(D1, "/local/domain/1/a").unwrap();
        assert_eq!(
            changed,
            [
                "/local/domain/1",
                "/local/domain/1/a",
                "/local/domain/1/a/b",
                "/local/domain/1/a/b/c"
            ]
        );
        assert!(tree.get("/local/domain/1/a/b").is_none());
        assert!(!tree.get("/local/domain/1").unwrap().children.contains("a"));
        assert_eq!(tree.rm(D1, "/local/domain/1/a").unwrap(), Vec::<String>::new());
        assert_eq!(tree.rm(D1, "/local/domain/1/a/b"), Err(XsdError::ENOENT));
        assert_eq!(tree.rm(DOM0, "/"), Err(XsdError::EINVAL));
        assert_eq!(tree.owned_by(1), 1);
    }

    #[test]
    fn the_node_quota_counts_what_a_domain_owns() {
        let mut tree = with_home();
        tree.write(D1, "/local/domain/1/a", b"", THREE).unwrap();
        tree.write(D1, "/local/domain/1/b", b"", THREE).unwrap();
        assert_eq!(tree.write(D1, "/local/domain/1/c", b"", THREE), Err(XsdError::ENOSPC));
        assert_eq!(
            tree.write(D1, "/local/domain/1/a", b"changed", THREE).map(|c| c.len()),
            Ok(1),
            "no new node"
        );
        tree.rm(D1, "/local/domain/1/b").unwrap();
        tree.write(D1, "/local/domain/1/c", b"", THREE).unwrap();
    }

    #[test]
    fn subtrees_do_not_include_siblings_sharing_a_prefix() {
        let mut tree = with_home();
        tree.write(D1, "/local/domain/1/a/x", b"", Quota::UNLIMITED).unwrap();
        tree.write(D1, "/local/domain/1/ab", b"", Quota::UNLIMITED).unwrap();
        assert_eq!(
            tree.subtree("/local/domain/1/a"),
            ["/local/domain/1/a", "/local/domain/1/a/x"]
        );
    }
}
