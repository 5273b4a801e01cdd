//! What a client may do with nodes, written once over any place that holds
//! them: the store ([`Tree`](super::tree::Tree)) and a transaction's view
//! of it ([`View`](super::transaction::View)), which keeps only the nodes
//! the transaction changed.
//!
//! Every operation takes the calling domain and checks its access; each
//! change reports the paths it changed, so that watches can fire.

use super::caller::Caller;
use super::node::{Node, PERMISSION_BYTES};
use super::path;
use super::permissions::{Access, Permissions};
use super::quota::Quota;
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use xen_abi::xs_wire::XsdError;

/// What a change did: the paths created, changed or removed, in order.
pub type Changed = Vec<String>;

/// Nodes by path, with what each domain owns; the operations of the
/// protocol are provided on top.
pub trait NodeStore {
    /// The node at `path`.
    fn node(&self, path: &str) -> Option<&Node>;
    /// The node at `path`, to change its children or generation only: its
    /// value and permissions are charged to its owner, so those change by
    /// [`NodeStore::take`] and [`NodeStore::put`].
    fn node_mut(&mut self, path: &str) -> Option<&mut Node>;
    /// Removes the node at `path` and returns it; its owner is no longer
    /// charged for it.
    fn take(&mut self, path: &str) -> Option<Node>;
    /// Puts `node` at `path`, where there is none, charged to its owner.
    fn put(&mut self, path: &str, node: Node);
    /// Nodes `domid` owns.
    fn owned_by(&self, domid: u16) -> usize;
    /// Bytes `domid` owns (see [`charge`](super::node::charge)).
    fn bytes_owned_by(&self, domid: u16) -> usize;
    /// A generation for a change.
    fn next_generation(&mut self) -> u64;

    /// What `caller` may do with the node at `path` (ENOENT if none).
    fn access(&self, caller: Caller, path: &str) -> Result<Access, XsdError> {
        let node = self.node(path).ok_or(XsdError::ENOENT)?;
        Ok(if caller.privileged {
            Access::Both
        } else {
            node.perms.access(caller.domid)
        })
    }

    /// The node at `path` if `caller` may read it.
    fn readable(&self, caller: Caller, path: &str) -> Result<&Node, XsdError> {
        if !self.access(caller, path)?.reads() {
            return Err(XsdError::EACCES);
        }
        self.node(path).ok_or(XsdError::ENOENT)
    }

    /// Whether `caller` may read `path`.
    fn can_read(&self, caller: Caller, path: &str) -> bool {
        self.access(caller, path).is_ok_and(Access::reads)
    }

    /// The value at `path`.
    fn read(&self, caller: Caller, path: &str) -> Result<&[u8], XsdError> {
        Ok(&self.readable(caller, path)?.value)
    }

    /// The children of `path`.
    fn directory(&self, caller: Caller, path: &str) -> Result<&BTreeSet<String>, XsdError> {
        Ok(&self.readable(caller, path)?.children)
    }

    /// The permissions of `path`.
    fn perms(&self, caller: Caller, path: &str) -> Result<&Permissions, XsdError> {
        Ok(&self.readable(caller, path)?.perms)
    }

    /// The paths a write of `path` would create, top first: its missing
    /// ancestors and itself, as slices of `path` (nothing is allocated per
    /// ancestor, however deep the path); empty if it exists.
    fn missing<'p>(&self, path: &'p str) -> Vec<&'p str> {
        let mut missing = Vec::new();
        let mut current = Some(path);
        while let Some(at) = current {
            if self.node(at).is_some() {
                break;
            }
            missing.push(at);
            current = path::parent(at);
        }
        missing.reverse();
        missing
    }

    /// `path` and every node below it, parents first (none if it is absent).
    fn subtree(&self, path: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = alloc::vec![String::from(path)];
        while let Some(at) = stack.pop() {
            let Some(node) = self.node(&at) else {
                continue;
            };
            stack.extend(node.children.iter().rev().map(|child| path::join(&at, child)));
            found.push(at);
        }
        found
    }

    /// Sets `path` to `value`, creating it and missing parents (with empty
    /// values) if needed. Creating needs write access to the nearest
    /// existing ancestor; new nodes take its permissions, owned by the
    /// caller unless privileged. `quota` caps what the caller owns.
    fn write(&mut self, caller: Caller, path: &str, value: &[u8], quota: Quota) -> Result<Changed, XsdError> {
        set(self, caller, path, Some(value), quota)
    }

    /// Creates `path` (and missing parents) with an empty value; an
    /// existing node keeps its value.
    fn mkdir(&mut self, caller: Caller, path: &str, quota: Quota) -> Result<Changed, XsdError> {
        set(self, caller, path, None, quota)
    }

    /// Removes `path` and everything below it. Absent: fine if its parent
    /// exists (nothing changes), ENOENT if not. The root cannot go.
    fn rm(&mut self, caller: Caller, path: &str) -> Result<Changed, XsdError> {
        let parent = path::parent(path).ok_or(XsdError::EINVAL)?;
        if self.node(path).is_none() {
            return if self.node(parent).is_some() {
                Ok(Vec::new())
            } else {
                Err(XsdError::ENOENT)
            };
        }
        if !self.access(caller, path)?.writes() {
            return Err(XsdError::EACCES);
        }
        let removed = self.subtree(path);
        for node in &removed {
            self.take(node);
        }
        let generation = self.next_generation();
        if let Some(parent_node) = self.node_mut(parent) {
            parent_node.children.remove(path::leaf(path));
            parent_node.generation = generation;
        }
        let mut changed = alloc::vec![String::from(parent)];
        changed.extend(removed);
        Ok(changed)
    }

    /// Replaces the permissions of `path`: the owner and the privileged
    /// only, and only the privileged may hand the node to another owner.
    /// Each entry is charged to the owner's bytes: more entries than the
    /// node had must fit `quota` (ENOSPC).
    fn set_perms(&mut self, caller: Caller, path: &str, perms: Permissions, quota: Quota) -> Result<Changed, XsdError> {
        let node = self.node(path).ok_or(XsdError::ENOENT)?;
        let owner = node.perms.owner();
        if !caller.privileged && (caller.domid != owner || perms.owner() != owner) {
            return Err(XsdError::EACCES);
        }
        let grown = perms.entries().len().saturating_sub(node.perms.entries().len()) * PERMISSION_BYTES;
        if !caller.privileged && grown > 0 && self.bytes_owned_by(owner) + grown > quota.bytes {
            return Err(XsdError::ENOSPC);
        }
        let generation = self.next_generation();
        let mut node = self.take(path).ok_or(XsdError::ENOENT)?;
        node.perms = perms;
        node.generation = generation;
        self.put(path, node);
        Ok(alloc::vec![String::from(path)])
    }
}

/// [`NodeStore::write`] (`value`) and [`NodeStore::mkdir`] (`None`).
fn set<S: NodeStore + ?Sized>(
    store: &mut S,
    caller: Caller,
    path: &str,
    value: Option<&[u8]>,
    quota: Quota,
) -> Result<Changed, XsdError> {
    let missing = store.missing(path);
    if missing.is_empty() {
        if !store.access(caller, path)?.writes() {
            return Err(XsdError::EACCES);
        }
        let Some(value) = value else {
            return Ok(Vec::new());
        };
        let node = store.node(path).ok_or(XsdError::ENOENT)?;
        let owner = node.perms.owner();
        let grown = value.len().saturating_sub(node.value.len());
        // Only growth is refused: an owner over its quota (pushed there
        // by dom0's writes) may still rewrite its nodes in place.
        if !caller.privileged && owner == caller.domid && grown > 0 && store.bytes_owned_by(owner) + grown > quota.bytes
        {
            return Err(XsdError::ENOSPC);
        }
        let generation = store.next_generation();
        let mut node = store.take(path).ok_or(XsdError::ENOENT)?;
        node.value = Vec::from(value);
        node.generation = generation;
        store.put(path, node);
        return Ok(alloc::vec![String::from(path)]);
    }
    let anchor = path::parent(missing[0]).ok_or(XsdError::EINVAL)?;
    if !store.access(caller, anchor)?.writes() {
        return Err(XsdError::EACCES);
    }
    let inherited = store.node(anchor).ok_or(XsdError::ENOENT)?.perms.clone();
    if !caller.privileged {
        let perms = inherited.entries().len() * PERMISSION_BYTES * missing.len();
        let bytes: usize = missing.iter().map(|at| at.len()).sum::<usize>() + value.map_or(0, <[u8]>::len) + perms;
        if store.owned_by(caller.domid) + missing.len() > quota.nodes
            || store.bytes_owned_by(caller.domid) + bytes > quota.bytes
        {
            return Err(XsdError::ENOSPC);
        }
    }
    let perms = if caller.privileged {
        inherited
    } else {
        inherited.with_owner(caller.domid)
    };
    let generation = store.next_generation();
    let mut changed = alloc::vec![String::from(anchor)];
    let anchor_node = store.node_mut(anchor).ok_or(XsdError::ENOENT)?;
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
        store.put(new, node);
        changed.push(String::from(*new));
    }
    Ok(changed)
}
