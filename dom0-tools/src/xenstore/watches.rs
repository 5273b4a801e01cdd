//! Watches, indexed by path: a change finds the watches on its path and
//! its ancestors by lookups along the path, and a removal finds those
//! below it by one range of the index, never by scanning every watch.

use super::path::{self, is_within};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use xen_abi::xs_wire::XsdError;

/// Which connection a watch belongs to.
pub type ConnId = u32;

/// One watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watch {
    /// Its connection.
    pub conn: ConnId,
    /// The token the client chose, sent back with each event.
    pub token: String,
    /// Whether the client gave the path relative to its home (events are
    /// reported relative too).
    pub relative: bool,
}

/// Every watch.
#[derive(Debug, Default)]
pub struct Watches {
    by_path: BTreeMap<String, Vec<Watch>>,
    per_conn: BTreeMap<ConnId, usize>,
}

impl Watches {
    /// Adds a watch on absolute `path`; EEXIST for the same path and token
    /// twice, ENOSPC past `quota` watches for the connection.
    pub fn add(&mut self, path: &str, watch: Watch, quota: usize) -> Result<(), XsdError> {
        let count = self.per_conn.get(&watch.conn).copied().unwrap_or(0);
        let list = self.by_path.entry(String::from(path)).or_default();
        if list.iter().any(|w| w.conn == watch.conn && w.token == watch.token) {
            return Err(XsdError::EEXIST);
        }
        if count >= quota {
            if list.is_empty() {
                self.by_path.remove(path);
            }
            return Err(XsdError::ENOSPC);
        }
        *self.per_conn.entry(watch.conn).or_insert(0) += 1;
        list.push(watch);
        Ok(())
    }

    /// Removes `conn`'s watch on `path` with `token`; ENOENT if none.
    pub fn remove(&mut self, conn: ConnId, path: &str, token: &str) -> Result<(), XsdError> {
        let list = self.by_path.get_mut(path).ok_or(XsdError::ENOENT)?;
        let index = list
            .iter()
            .position(|w| w.conn == conn && w.token == token)
            .ok_or(XsdError::ENOENT)?;
        list.remove(index);
        if list.is_empty() {
            self.by_path.remove(path);
        }
        self.uncount(conn, 1);
        Ok(())
    }

    /// Removes every watch of `conn`.
    pub fn remove_conn(&mut self, conn: ConnId) {
        let mut removed = 0;
        self.by_path.retain(|_, list| {
            let before = list.len();
            list.retain(|w| w.conn != conn);
            removed += before - list.len();
            !list.is_empty()
        });
        self.uncount(conn, removed);
    }

    fn uncount(&mut self, conn: ConnId, removed: usize) {
        if let Some(count) = self.per_conn.get_mut(&conn) {
            *count -= removed.min(*count);
            if *count == 0 {
                self.per_conn.remove(&conn);
            }
        }
    }

    /// Watches `conn` holds.
    pub fn count(&self, conn: ConnId) -> usize {
        self.per_conn.get(&conn).copied().unwrap_or(0)
    }

    /// The watches a change of `changed` fires, each with the absolute path
    /// its event reports: those on the path and its ancestors report the
    /// path; if the change removed the subtree, those below it report their
    /// own path.
    pub fn fired(&self, changed: &str, removed: bool) -> Vec<(&Watch, String)> {
        let mut fired = Vec::new();
        let mut at = Some(changed);
        while let Some(current) = at {
            if let Some(list) = self.by_path.get(current) {
                fired.extend(list.iter().map(|w| (w, String::from(changed))));
            }
            at = path::parent(current);
        }
        if removed {
            let below = self
                .by_path
                .range::<str, _>((core::ops::Bound::Excluded(changed), core::ops::Bound::Unbounded))
                .take_while(|(at, _)| at.starts_with(changed));
            for (at, list) in below.filter(|(at, _)| is_within(at, changed)) {
                fired.extend(list.iter().map(|w| (w, at.clone())));
            }
        }
        fired
    }

    /// The watches on special path `special` (`@introduceDomain`...).
    pub fn on(&self, special: &str) -> impl Iterator<Item = &Watch> {
        self.by_path.get(special).into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(conn: ConnId, token: &str) -> Watch {
        Watch {
            conn,
            token: String::from(token),
            relative: false,
        }
    }

    #[test]
    fn changes_fire_watches_on_the_path_and_above_removals_also_below() {
        let mut watches = Watches::default();
        watches.add("/a", watch(1, "up"), 10).unwrap();
        watches.add("/a/b/c", watch(2, "down"), 10).unwrap();
        watches.add("/ab", watch(3, "sibling"), 10).unwrap();
        let fired = watches.fired("/a/b", false);
        assert_eq!(fired.len(), 1);
        assert_eq!((fired[0].0.token.as_str(), fired[0].1.as_str()), ("up", "/a/b"));
        let fired = watches.fired("/a/b", true);
        let tokens: Vec<_> = fired.iter().map(|(w, at)| (w.token.as_str(), at.as_str())).collect();
        assert_eq!(tokens, [("up", "/a/b"), ("down", "/a/b/c")]);
    }

    #[test]
    fn duplicates_quotas_and_removal() {
        let mut watches = Watches::default();
        watches.add("/a", watch(1, "t"), 2).unwrap();
        assert_eq!(watches.add("/a", watch(1, "t"), 2), Err(XsdError::EEXIST));
        watches.add("/a", watch(2, "t"), 2).unwrap();
        watches.add("/b", watch(1, "u"), 2).unwrap();
        assert_eq!(watches.add("/c", watch(1, "v"), 2), Err(XsdError::ENOSPC));
        assert_eq!(watches.remove(1, "/a", "x"), Err(XsdError::ENOENT));
        watches.remove(1, "/a", "t").unwrap();
        assert_eq!(watches.count(1), 1);
        watches.remove_conn(1);
        assert_eq!(watches.count(1), 0);
        assert_eq!(watches.fired("/b", false).len(), 0);
        assert_eq!(watches.fired("/a", false).len(), 1, "conn 2's is left");
    }
}
