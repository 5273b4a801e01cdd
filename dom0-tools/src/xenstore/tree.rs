//! The store: nodes by absolute path, each with a value, permissions, its
//! children's names and the generation of its last change.
//!
//! Every operation takes the calling domain and checks its access; each
//! change reports the paths it changed, so that transactions can record
//! them and watches can fire. A generation counter orders changes:
//! a transaction conflicts when a node it touched changed after it began.

use super::path::{self, is_within};
use super::permissions::{Access, Permissions};
use super::wire::XsError;
use alloc::collections::{BTreeMap, BTreeSet};
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

/// Who is asking: a domain, privileged (dom0) or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The domain.
    pub domid: u16,
    /// Whether it may do anything (dom0).
    pub privileged: bool,
}

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

/// What a change did: the paths created, changed or removed, in order.
pub type Changed = Vec<String>;

/// Bytes a permission entry is charged (what it costs in memory).
pub const PERMISSION_BYTES: usize = 4;

/// What a node costs its owner's byte quota: its path, its value and its
/// permission list (each new child copies its parent's).
pub fn charge(path: &str, node: &Node) -> usize {
    path.len() + node.value.len() + node.perms.entries().len() * PERMISSION_BYTES
}

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

/// The changes a client can make, on the store or in a transaction.
pub trait Edit {
    /// Sets `path` to `value`, creating it and missing parents.
    fn write(&mut self, caller: Caller, path: &str, value: &[u8], quota: Quota) -> Result<Changed, XsError>;
    /// Creates `path` and missing parents; an existing node is kept.
    fn mkdir(&mut self, caller: Caller, path: &str, quota: Quota) -> Result<Changed, XsError>;
    /// Removes `path` and everything below it.
    fn rm(&mut self, caller: Caller, path: &str) -> Result<Changed, XsError>;
    /// Replaces the permissions of `path`; a longer list is growth, held to
    /// `quota` like any other.
    fn set_perms(&mut self, caller: Caller, path: &str, perms: Permissions, quota: Quota) -> Result<Changed, XsError>;
}

impl Edit for Tree {
    fn write(&mut self, caller: Caller, path: &str, value: &[u8], quota: Quota) -> Result<Changed, XsError> {
        Tree::write(self, caller, path, value, quota)
    }
    fn mkdir(&mut self, caller: Caller, path: &str, quota: Quota) -> Result<Changed, XsError> {
        Tree::mkdir(self, caller, path, quota)
    }
    fn rm(&mut self, caller: Caller, path: &str) -> Result<Changed, XsError> {
        Tree::rm(self, caller, path)
    }
    fn set_perms(&mut self, caller: Caller, path: &str, perms: Permissions, quota: Quota) -> Result<Changed, XsError> {
        Tree::set_perms(self, caller, path, perms, quota)
    }
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

    /// Nodes `domid` owns.
    pub fn owned_by(&self, domid: u16) -> usize {
        self.owned.get(&domid).copied().unwrap_or(0)
    }

    /// Bytes of path and value `domid` owns.
    pub fn bytes_owned_by(&self, domid: u16) -> usize {
        self.owned_bytes.get(&domid).copied().unwrap_or(0)
    }

    /// Every node, in path order.
    pub fn nodes(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
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

    fn take(&mut self, path: &str) -> Option<Node> {
        let node = self.nodes.remove(path)?;
        self.disown(node.perms.owner(), charge(path, &node));
        Some(node)
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

    /// What `caller` may do with the node at `path` (which must exist).
    fn access(&self, caller: Caller, path: &str) -> Result<Access, XsError> {
        let node = self.nodes.get(path).ok_or(XsError::ENOENT)?;
        Ok(if caller.privileged {
            Access::Both
        } else {
            node.perms.access(caller.domid)
        })
    }

    /// Whether `caller` may read `path`.
    pub fn can_read(&self, caller: Caller, path: &str) -> bool {
        self.access(caller, path).is_ok_and(Access::reads)
    }

    /// The value at `path`.
    pub fn read(&self, caller: Caller, path: &str) -> Result<&[u8], XsError> {
        if !self.access(caller, path)?.reads() {
            return Err(XsError::EACCES);
        }
        Ok(&self.nodes[path].value)
    }

    /// The children of `path`.
    pub fn directory(&self, caller: Caller, path: &str) -> Result<&BTreeSet<String>, XsError> {
        if !self.access(caller, path)?.reads() {
            return Err(XsError::EACCES);
        }
        Ok(&self.nodes[path].children)
    }

    /// The permissions of `path`.
    pub fn perms(&self, caller: Caller, path: &str) -> Result<&Permissions, XsError> {
        if !self.access(caller, path)?.reads() {
            return Err(XsError::EACCES);
        }
        Ok(&self.nodes[path].perms)
    }

    /// The paths a write of `path` would create, top first: its missing
    /// ancestors and itself, as slices of `path` (nothing is allocated per
    /// ancestor, however deep the path); empty if it exists.
    pub fn missing<'p>(&self, path: &'p str) -> Vec<&'p str> {
        let mut missing = Vec::new();
        let mut current = Some(path);
        while let Some(at) = current {
            if self.nodes.contains_key(at) {
                break;
            }
            missing.push(at);
            current = path::parent(at);
        }
        missing.reverse();
        missing
    }

    /// Sets `path` to `value`, creating it and missing parents (with empty
    /// values) if needed. Creating needs write access to the nearest
    /// existing ancestor; new nodes take its permissions, owned by the
    /// caller unless privileged. `quota` caps the nodes the caller owns.
    pub fn write(&mut self, caller: Caller, path: &str, value: &[u8], quota: Quota) -> Result<Changed, XsError> {
        self.set(caller, path, Some(value), quota)
    }

    /// Creates `path` (and missing parents) with an empty value; an
    /// existing node keeps its value.
    pub fn mkdir(&mut self, caller: Caller, path: &str, quota: Quota) -> Result<Changed, XsError> {
        self.set(caller, path, None, quota)
    }

    fn set(&mut self, caller: Caller, path: &str, value: Option<&[u8]>, quota: Quota) -> Result<Changed, XsError> {
        let missing = self.missing(path);
        if missing.is_empty() {
            if !self.access(caller, path)?.writes() {
                return Err(XsError::EACCES);
            }
            let Some(value) = value else {
                return Ok(Vec::new());
            };
            let node = self.nodes.get(path).ok_or(XsError::ENOENT)?;
            let owner = node.perms.owner();
            let old_len = node.value.len();
            let grown = value.len().saturating_sub(old_len);
            // Only growth is refused: an owner over its quota (pushed there
            // by dom0's writes) may still rewrite its nodes in place.
            if !caller.privileged
                && owner == caller.domid
                && grown > 0
                && self.bytes_owned_by(owner) + grown > quota.bytes
            {
                return Err(XsError::ENOSPC);
            }
            let generation = self.next_generation();
            let node = self.nodes.get_mut(path).ok_or(XsError::ENOENT)?;
            node.value = Vec::from(value);
            node.generation = generation;
            let bytes = self.owned_bytes.entry(owner).or_insert(0);
            *bytes = (*bytes + value.len()).saturating_sub(old_len);
            return Ok(alloc::vec![String::from(path)]);
        }
        let anchor = path::parent(missing[0]).ok_or(XsError::EINVAL)?;
        if !self.access(caller, anchor)?.writes() {
            return Err(XsError::EACCES);
        }
        if !caller.privileged {
            let perms = self.nodes[anchor].perms.entries().len() * PERMISSION_BYTES * missing.len();
            let bytes: usize = missing.iter().map(|at| at.len()).sum::<usize>() + value.map_or(0, <[u8]>::len) + perms;
            if self.owned_by(caller.domid) + missing.len() > quota.nodes
                || self.bytes_owned_by(caller.domid) + bytes > quota.bytes
            {
                return Err(XsError::ENOSPC);
            }
        }
        let inherited = self.nodes[anchor].perms.clone();
        let perms = if caller.privileged {
            inherited
        } else {
            inherited.with_owner(caller.domid)
        };
        let generation = self.next_generation();
        let mut changed = alloc::vec![String::from(anchor)];
        let anchor_node = self.nodes.get_mut(anchor).ok_or(XsError::ENOENT)?;
        anchor_node.children.insert(String::from(path::leaf(missing[0])));
        anchor_node.generation = generation;
        for (index, new) in missing.iter().enumerate() {
            let mut children = BTreeSet::new();
            if let Some(next) = missing.get(index + 1) {
                children.insert(String::from(path::leaf(next)));
            }
            let is_target = index + 1 == missing.len();
            let node = Node {
                value: if is_target {
                    Vec::from(value.unwrap_or(&[]))
                } else {
                    Vec::new()
                },
                perms: perms.clone(),
                children,
                generation,
            };
            self.insert(String::from(*new), node);
            changed.push(String::from(*new));
        }
        Ok(changed)
    }

    /// Removes `path` and everything below it. Absent: fine if its parent
    /// exists (nothing changes), ENOENT if not. The root cannot go.
    pub fn rm(&mut self, caller: Caller, path: &str) -> Result<Changed, XsError> {
        let parent = path::parent(path).ok_or(XsError::EINVAL)?;
        if !self.nodes.contains_key(path) {
            return if self.nodes.contains_key(parent) {
                Ok(Vec::new())
            } else {
                Err(XsError::ENOENT)
            };
        }
        if !self.access(caller, path)?.writes() {
            return Err(XsError::EACCES);
        }
        let removed = self.subtree(path);
        for node in &removed {
            self.take(node);
        }
        let generation = self.next_generation();
        if let Some(parent_node) = self.nodes.get_mut(parent) {
            parent_node.children.remove(path::leaf(path));
            parent_node.generation = generation;
        }
        let mut changed = alloc::vec![String::from(parent)];
        changed.extend(removed);
        Ok(changed)
    }

    /// `path` and every node below it, parents first.
    pub fn subtree(&self, path: &str) -> Vec<String> {
        self.nodes
            .range::<str, _>((core::ops::Bound::Included(path), core::ops::Bound::Unbounded))
            .map(|(at, _)| at)
            .take_while(|at| at.starts_with(path))
            .filter(|at| is_within(at, path))
            .cloned()
            .collect()
    }

    /// Replaces the permissions of `path`: the owner and the privileged
    /// only, and only the privileged may hand the node to another owner.
    /// Each entry is charged to the owner's bytes: more entries than the
    /// node had must fit `quota` (ENOSPC).
    pub fn set_perms(
        &mut self,
        caller: Caller,
        path: &str,
        perms: Permissions,
        quota: Quota,
    ) -> Result<Changed, XsError> {
        let node = self.nodes.get(path).ok_or(XsError::ENOENT)?;
        let owner = node.perms.owner();
        if !caller.privileged && (caller.domid != owner || perms.owner() != owner) {
            return Err(XsError::EACCES);
        }
        let grown = perms.entries().len().saturating_sub(node.perms.entries().len()) * PERMISSION_BYTES;
        if !caller.privileged && grown > 0 && self.bytes_owned_by(owner) + grown > quota.bytes {
            return Err(XsError::ENOSPC);
        }
        let generation = self.next_generation();
        let mut node = self.take(path).ok_or(XsError::ENOENT)?;
        node.perms = perms;
        node.generation = generation;
        self.insert(String::from(path), node);
        Ok(alloc::vec![String::from(path)])
    }

    /// Copies the node at `path` from `other` (or removes it, if `other`
    /// has none), with a fresh generation: how a transaction's changes
    /// reach the store.
    pub fn adopt(&mut self, other: &Tree, path: &str) {
        self.take(path);
        if let Some(node) = other.get(path) {
            let mut node = node.clone();
            node.generation = self.next_generation();
            self.insert(String::from(path), node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xenstore::permissions::Permission;

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
        assert_eq!(tree.read(D2, "/local/domain/1/secret"), Err(XsError::EACCES));
        assert_eq!(
            tree.write(D2, "/local/domain/1/secret", b"x", Quota::UNLIMITED),
            Err(XsError::EACCES)
        );
        assert_eq!(
            tree.write(D2, "/local/domain/1/new", b"x", Quota::UNLIMITED),
            Err(XsError::EACCES)
        );
        assert_eq!(tree.rm(D2, "/local/domain/1/secret"), Err(XsError::EACCES));
        assert_eq!(
            tree.write(D1, "/local/other", b"x", Quota::UNLIMITED),
            Err(XsError::EACCES),
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
            Err(XsError::EACCES)
        );
        // Only the owner sets permissions, and it may not give the node away.
        assert_eq!(
            tree.set_perms(D2, "/local/domain/1/secret", perms, Quota::UNLIMITED),
            Err(XsError::EACCES)
        );
        assert_eq!(
            tree.set_perms(D1, "/local/domain/1/secret", Permissions::owned_by(2), Quota::UNLIMITED),
            Err(XsError::EACCES)
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
        assert_eq!(tree.rm(D1, "/local/domain/1/a/b"), Err(XsError::ENOENT));
        assert_eq!(tree.rm(DOM0, "/"), Err(XsError::EINVAL));
        assert_eq!(tree.owned_by(1), 1);
    }

    #[test]
    fn the_node_quota_counts_what_a_domain_owns() {
        let mut tree = with_home();
        tree.write(D1, "/local/domain/1/a", b"", THREE).unwrap();
        tree.write(D1, "/local/domain/1/b", b"", THREE).unwrap();
        assert_eq!(tree.write(D1, "/local/domain/1/c", b"", THREE), Err(XsError::ENOSPC));
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
