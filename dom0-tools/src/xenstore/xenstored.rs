//! xenstored's request handling: one connection per domain, each request
//! answered in order on its own connection, watch events queued on the
//! watchers' connections.
//!
//! Whatever a client sends, it gets a reply (an ERROR with an errno name
//! for anything malformed or refused) and nobody else is affected beyond
//! what the request was allowed to change. Each connection is held to
//! [`Quotas`].

use super::caller::Caller;
use super::node_store::NodeStore;
use super::outbox::Outbox;
use super::path::{self, INTRODUCE_DOMAIN, RELEASE_DOMAIN};
use super::permissions::{Permission, Permissions};
use super::quota::Quota;
pub use super::quotas::Quotas;
use super::transaction::Transaction;
use super::tree::Tree;
use super::watches::{ConnId, Watch, Watches};
use super::wire::{Message, fields};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use xen_abi::xs_wire::{XENSTORE_PAYLOAD_MAX, XsdError, XsdSockmsg, XsdSockmsgType};

/// A domain xenstored was told about with INTRODUCE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Introduced {
    /// The frame of its xenstore ring.
    pub ring_frame: u64,
    /// The event channel port (in its domain) for the ring.
    pub port: u32,
}

/// One client.
#[derive(Debug)]
struct Connection {
    caller: Caller,
    transactions: BTreeMap<u32, Transaction>,
    next_transaction: u32,
    outbox: Outbox,
}

/// The daemon's state.
#[derive(Debug, Default)]
pub struct Xenstored {
    tree: Tree,
    connections: BTreeMap<ConnId, Connection>,
    next_connection: ConnId,
    watches: Watches,
    quotas: Quotas,
    introduced: BTreeMap<u16, Introduced>,
    /// An event to queue right after the reply being made (a new watch's
    /// first event).
    after_reply: Option<Message>,
}

/// What a handler answers: a reply payload, or an error.
type Reply = Result<(XsdSockmsgType, Vec<u8>), XsdError>;

/// The `OK\0` reply.
fn ok(kind: XsdSockmsgType) -> Reply {
    Ok((kind, b"OK\0".to_vec()))
}

/// The one NUL-terminated field of `payload`.
fn one_field(payload: &[u8]) -> Result<&[u8], XsdError> {
    match payload.split_last() {
        Some((0, body)) if !body.contains(&0) => Ok(body),
        _ => Err(XsdError::EINVAL),
    }
}

/// The two NUL-terminated fields of `payload`.
fn two_fields(payload: &[u8]) -> Result<(&[u8], &[u8]), XsdError> {
    match fields(payload).as_slice() {
        [first, second] if payload.ends_with(&[0]) => Ok((first, second)),
        _ => Err(XsdError::EINVAL),
    }
}

/// A decimal number field.
fn number<T: core::str::FromStr>(field: &[u8]) -> Result<T, XsdError> {
    core::str::from_utf8(field)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or(XsdError::EINVAL)
}

/// NUL-terminated names.
fn name_list<'a>(names: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut out = Vec::new();
    for name in names {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
    }
    out
}

impl Xenstored {
    /// A daemon with `quotas` and the initial tree.
    pub fn new(quotas: Quotas) -> Self {
        Xenstored {
            quotas,
            ..Default::default()
        }
    }

    /// The tree, for inspection.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Opens a connection for `domid`; privileged for dom0.
    pub fn connect(&mut self, domid: u16, privileged: bool) -> ConnId {
        let conn = self.next_connection;
        self.next_connection += 1;
        self.connections.insert(
            conn,
            Connection {
                caller: Caller { domid, privileged },
                transactions: BTreeMap::new(),
                next_transaction: 1,
                outbox: Outbox::default(),
            },
        );
        conn
    }

    /// Closes `conn`: its watches and open transactions go.
    pub fn disconnect(&mut self, conn: ConnId) {
        self.connections.remove(&conn);
        self.watches.remove_conn(conn);
    }

    /// The next message for `conn` to send, if any.
    pub fn take_output(&mut self, conn: ConnId) -> Option<Message> {
        self.connections.get_mut(&conn)?.outbox.pop()
    }

    /// Whether xenstored takes `conn`'s requests now: not while its outbox
    /// lacks room for the largest reply. A client that does not read its
    /// replies thus stops being served, its requests left in its ring,
    /// rather than making dom0 queue without bound (C xenstored stops
    /// reading a connection whose output is pending).
    pub fn accepts_requests(&self, conn: ConnId) -> bool {
        self.connections
            .get(&conn)
            .is_some_and(|connection| connection.outbox.has_room_for_a_reply(self.quotas.queued_bytes))
    }

    /// The most output that was ever queued for `conn`, in the bytes the
    /// quota counts; 0 if it is not open.
    pub fn peak_queued(&self, conn: ConnId) -> usize {
        self.connections
            .get(&conn)
            .map_or(0, |connection| connection.outbox.peak())
    }

    /// The quotas in force.
    pub fn quotas(&self) -> &Quotas {
        &self.quotas
    }

    /// Whether anything is queued for `conn`.
    pub fn has_output(&self, conn: ConnId) -> bool {
        self.connections
            .get(&conn)
            .is_some_and(|connection| !connection.outbox.is_empty())
    }

    /// Makes a request on `conn` from inside the process (dom0's own
    /// requests: no ring between it and xenstored) and returns its reply;
    /// `None` if `conn` is not open. `fields` are NUL-terminated in the
    /// payload, except a WRITE's last (the value). Watch events queued for
    /// `conn`, before the reply or by the request itself, stay queued in
    /// order for [`Xenstored::take_output`]: dom0's services once lost a
    /// domU's request this way.
    pub fn request(&mut self, conn: ConnId, kind: XsdSockmsgType, fields: &[&[u8]]) -> Option<Message> {
        self.request_in(conn, 0, kind, fields)
    }

    /// [`Xenstored::request`] in transaction `tx` (0: none).
    pub fn request_in(&mut self, conn: ConnId, tx: u32, kind: XsdSockmsgType, fields: &[&[u8]]) -> Option<Message> {
        let mut payload = Vec::new();
        for field in fields {
            payload.extend_from_slice(field);
            payload.push(0);
        }
        if kind == XsdSockmsgType::Write {
            payload.pop();
        }
        let message = Message {
            header: XsdSockmsg {
                kind: kind as u32,
                req_id: 0,
                tx_id: tx,
                len: payload.len() as u32,
            },
            payload,
        };
        self.handle(conn, &message);
        self.connections.get_mut(&conn)?.outbox.take_reply()
    }

    /// The node quota as the tree applies it.
    fn quota(&self) -> Quota {
        Quota {
            nodes: self.quotas.nodes,
            bytes: self.quotas.bytes,
        }
    }

    /// Domains introduced so far.
    pub fn introduced(&self) -> &BTreeMap<u16, Introduced> {
        &self.introduced
    }

    /// Tells the watchers of `@releaseDomain` that `domid` is gone (a
    /// domain that died without RELEASE), and forgets its introduction.
    pub fn domain_gone(&mut self, domid: u16) {
        self.introduced.remove(&domid);
        self.fire_special(RELEASE_DOMAIN);
    }

    /// Handles one request from `conn`; the reply (and any watch events)
    /// are queued. A message from an unknown connection is dropped.
    pub fn handle(&mut self, conn: ConnId, message: &Message) {
        let Some(connection) = self.connections.get(&conn) else {
            return;
        };
        let caller = connection.caller;
        let request = message.header;
        let reply = if message.payload.len() > XENSTORE_PAYLOAD_MAX || message.payload.len() != request.len as usize {
            Err(XsdError::E2BIG)
        } else {
            self.dispatch(conn, caller, &request, &message.payload)
        };
        // A reply must fit the protocol's payload (a directory of long
        // names could outgrow it): E2BIG instead, as Xen answers.
        let reply = match reply {
            Ok((_, payload)) if payload.len() > XENSTORE_PAYLOAD_MAX => Err(XsdError::E2BIG),
            other => other,
        };
        let reply = match reply {
            Ok((kind, payload)) => Message::reply(&request, kind, payload),
            Err(error) => {
                let mut payload = Vec::from(error.name().as_bytes());
                payload.push(0);
                Message::reply(&request, XsdSockmsgType::Error, payload)
            }
        };
        self.queue(conn, reply, true);
        if let Some(event) = self.after_reply.take() {
            self.queue(conn, event, false);
        }
    }

    fn dispatch(&mut self, conn: ConnId, caller: Caller, request: &XsdSockmsg, payload: &[u8]) -> Reply {
        let Some(kind) = XsdSockmsgType::from_u32(request.kind) else {
            return Err(XsdError::ENOSYS);
        };
        let tx = request.tx_id;
        match kind {
            XsdSockmsgType::Read => {
                let path = path::canonical(one_field(payload)?, caller.domid)?;
                self.with_view(conn, tx, &path, |tree| {
                    tree.read(caller, &path).map(|value| value.to_vec())
                })
                .map(|value| (kind, value))
            }
            XsdSockmsgType::Directory => {
                let path = path::canonical(one_field(payload)?, caller.domid)?;
                self.with_view(conn, tx, &path, |tree| {
                    tree.directory(caller, &path)
                        .map(|children| name_list(children.iter().map(String::as_str)))
                })
                .map(|names| (kind, names))
            }
            XsdSockmsgType::GetPerms => {
                let path = path::canonical(one_field(payload)?, caller.domid)?;
                self.with_view(conn, tx, &path, |tree| {
                    tree.perms(caller, &path).map(|perms| {
                        let texts: Vec<String> = perms.entries().iter().map(Permission::format).collect();
                        name_list(texts.iter().map(String::as_str))
                    })
                })
                .map(|perms| (kind, perms))
            }
            XsdSockmsgType::Write => {
                let split = payload.iter().position(|&byte| byte == 0).ok_or(XsdError::EINVAL)?;
                let (raw, value) = (&payload[..split], &payload[split + 1..]);
                if value.len() > self.quotas.value_size && !caller.privileged {
                    return Err(XsdError::ENOSPC);
                }
                let path = path::canonical(raw, caller.domid)?;
                let quota = self.quota();
                self.change(conn, tx, &path, false, |store| store.write(caller, &path, value, quota))?;
                ok(kind)
            }
            XsdSockmsgType::Mkdir => {
                let path = path::canonical(one_field(payload)?, caller.domid)?;
                let quota = self.quota();
                self.change(conn, tx, &path, false, |store| store.mkdir(caller, &path, quota))?;
                ok(kind)
            }
            XsdSockmsgType::Rm => {
                let path = path::canonical(one_field(payload)?, caller.domid)?;
                self.change(conn, tx, &path, true, |store| store.rm(caller, &path))?;
                ok(kind)
            }
            XsdSockmsgType::SetPerms => {
                let all = fields(payload);
                let (raw, entries) = all.split_first().ok_or(XsdError::EINVAL)?;
                if !payload.ends_with(&[0]) {
                    return Err(XsdError::EINVAL);
                }
                let path = path::canonical(raw, caller.domid)?;
                let parsed = entries
                    .iter()
                    .map(|text| Permission::parse(text))
                    .collect::<Result<_, _>>()?;
                let perms = Permissions::from_entries(parsed)?;
                if perms.entries().len() > self.quotas.perms_per_node && !caller.privileged {
                    return Err(XsdError::ENOSPC);
                }
                let quota = self.quota();
                self.change(conn, tx, &path, false, |store| {
                    store.set_perms(caller, &path, perms, quota)
                })?;
                ok(kind)
            }
            XsdSockmsgType::Watch => {
                let (raw, token) = two_fields(payload)?;
                let path = path::watch_path(raw, caller.domid)?;
                if token.len() > self.quotas.token_size {
                    return Err(XsdError::EINVAL);
                }
                let token = String::from(core::str::from_utf8(token).map_err(|_| XsdError::EINVAL)?);
                let relative = !raw.starts_with(b"/") && !raw.starts_with(b"@");
                let watch = Watch {
                    conn,
                    token: token.clone(),
                    relative,
                };
                self.watches.add(&path, watch, self.quotas.watches)?;
                // The first event follows the reply, as Xen sends them.
                let seen = path::as_seen_by(&path, caller.domid, relative);
                self.after_reply = Some(watch_event(&seen, &token));
                ok(kind)
            }
            XsdSockmsgType::Unwatch => {
                let (raw, token) = two_fields(payload)?;
                let path = path::watch_path(raw, caller.domid)?;
                let token = core::str::from_utf8(token).map_err(|_| XsdError::EINVAL)?;
                self.watches.remove(conn, &path, token)?;
                ok(kind)
            }
            XsdSockmsgType::ResetWatches => {
                self.watches.remove_conn(conn);
                ok(kind)
            }
            XsdSockmsgType::TransactionStart => {
                if tx != 0 {
                    return Err(XsdError::EBUSY);
                }
                let limit = self.quotas.transactions;
                let open: usize = self.connections.values().map(|c| c.transactions.len()).sum();
                if open >= self.quotas.all_transactions && !caller.privileged {
                    return Err(XsdError::EAGAIN);
                }
                let connection = self.connections.get_mut(&conn).ok_or(XsdError::EIO)?;
                if connection.transactions.len() >= limit && !caller.privileged {
                    return Err(XsdError::ENOSPC);
                }
                let id = connection.next_transaction;
                connection.next_transaction = connection.next_transaction.wrapping_add(1).max(1);
                connection.transactions.insert(id, Transaction::new());
                Ok((kind, format!("{id}\0").into_bytes()))
            }
            XsdSockmsgType::TransactionEnd => {
                let commit = match one_field(payload)? {
                    b"T" => true,
                    b"F" => false,
                    _ => return Err(XsdError::EINVAL),
                };
                let connection = self.connections.get_mut(&conn).ok_or(XsdError::EIO)?;
                let transaction = connection.transactions.remove(&tx).ok_or(XsdError::ENOENT)?;
                if commit {
                    let quota = Quota {
                        nodes: self.quotas.nodes,
                        bytes: self.quotas.bytes,
                    };
                    let changed = transaction.commit(&mut self.tree, caller, quota)?;
                    for path in changed {
                        let removed = self.tree.get(&path).is_none();
                        self.fire(&path, removed);
                    }
                }
                ok(kind)
            }
            XsdSockmsgType::GetDomainPath => {
                let domid: u16 = number(one_field(payload)?)?;
                Ok((kind, format!("{}\0", path::domain_path(domid)).into_bytes()))
            }
            XsdSockmsgType::Introduce => {
                if !caller.privileged {
                    return Err(XsdError::EACCES);
                }
                let all = fields(payload);
                let [domid, frame, port] = all.as_slice() else {
                    return Err(XsdError::EINVAL);
                };
                let domid: u16 = number(domid)?;
                let introduced = Introduced {
                    ring_frame: number(frame)?,
                    port: number(port)?,
                };
                if self.introduced.insert(domid, introduced).is_none() {
                    self.fire_special(INTRODUCE_DOMAIN);
                }
                ok(kind)
            }
            XsdSockmsgType::Release => {
                if !caller.privileged {
                    return Err(XsdError::EACCES);
                }
                let domid: u16 = number(one_field(payload)?)?;
                self.introduced.remove(&domid).ok_or(XsdError::ENOENT)?;
                self.fire_special(RELEASE_DOMAIN);
                ok(kind)
            }
            XsdSockmsgType::IsDomainIntroduced => {
                let domid: u16 = number(one_field(payload)?)?;
                let answer = if self.introduced.contains_key(&domid) {
                    "T\0"
                } else {
                    "F\0"
                };
                Ok((kind, answer.as_bytes().to_vec()))
            }
            XsdSockmsgType::Control => Ok((kind, b"OK\0".to_vec())),
            XsdSockmsgType::WatchEvent | XsdSockmsgType::Error => Err(XsdError::EINVAL),
            XsdSockmsgType::Resume | XsdSockmsgType::SetTarget | XsdSockmsgType::DirectoryPart => Err(XsdError::ENOSYS),
        }
    }

    /// Runs a read on the store, or on transaction `tx` of `conn` after
    /// recording the path it depends on.
    fn with_view<T>(
        &mut self,
        conn: ConnId,
        tx: u32,
        path: &str,
        read: impl FnOnce(&dyn NodeStore) -> Result<T, XsdError>,
    ) -> Result<T, XsdError> {
        if tx == 0 {
            return read(&self.tree);
        }
        let connection = self.connections.get_mut(&conn).ok_or(XsdError::EIO)?;
        let transaction = connection.transactions.get_mut(&tx).ok_or(XsdError::ENOENT)?;
        transaction.read(&self.tree, path, read)
    }

    /// Runs a change on the store (firing watches on `path`) or in
    /// transaction `tx` (whose watches fire when it commits).
    fn change(
        &mut self,
        conn: ConnId,
        tx: u32,
        path: &str,
        removal: bool,
        edit: impl FnOnce(&mut dyn NodeStore) -> Result<Vec<String>, XsdError>,
    ) -> Result<(), XsdError> {
        if tx != 0 {
            let connection = self.connections.get_mut(&conn).ok_or(XsdError::EIO)?;
            let transaction = connection.transactions.get_mut(&tx).ok_or(XsdError::ENOENT)?;
            transaction.edit(&self.tree, edit)?;
            return Ok(());
        }
        let changed = edit(&mut self.tree)?;
        if !changed.is_empty() {
            self.fire(path, removal);
        }
        Ok(())
    }

    /// Queues the events a change of `changed` fires, for watchers that may
    /// see it (the privileged, or whoever can read the node or, once it is
    /// gone, its nearest remaining ancestor).
    fn fire(&mut self, changed: &str, removed: bool) {
        let mut events = Vec::new();
        for (watch, at) in self.watches.fired(changed, removed) {
            let Some(connection) = self.connections.get(&watch.conn) else {
                continue;
            };
            let caller = connection.caller;
            if !caller.privileged && !self.visible(caller, &at) {
                continue;
            }
            let seen = path::as_seen_by(&at, caller.domid, watch.relative);
            events.push((watch.conn, watch_event(&seen, &watch.token)));
        }
        for (conn, event) in events {
            self.queue(conn, event, false);
        }
    }

    /// Whether `caller` may learn that `path` changed.
    fn visible(&self, caller: Caller, path: &str) -> bool {
        let mut at = Some(path);
        while let Some(current) = at {
            if self.tree.get(current).is_some() {
                return self.tree.can_read(caller, current);
            }
            at = path::parent(current);
        }
        false
    }

    /// Events on a special path go to privileged watchers only.
    fn fire_special(&mut self, special: &str) {
        let targets: Vec<(ConnId, String)> = self
            .watches
            .on(special)
            .filter(|watch| self.connections.get(&watch.conn).is_some_and(|c| c.caller.privileged))
            .map(|watch| (watch.conn, watch.token.clone()))
            .collect();
        for (conn, token) in targets {
            self.queue(conn, watch_event(special, &token), false);
        }
    }

    /// Queues `message` for `conn` within its output quota (see
    /// [`Outbox::push`]).
    fn queue(&mut self, conn: ConnId, message: Message, is_reply: bool) {
        let limit = self.quotas.queued_bytes;
        if let Some(connection) = self.connections.get_mut(&conn) {
            connection.outbox.push(message, is_reply, limit);
        }
    }
}

/// A WATCH_EVENT for `path` and `token`.
fn watch_event(path: &str, token: &str) -> Message {
    let mut payload = Vec::from(path.as_bytes());
    payload.push(0);
    payload.extend_from_slice(token.as_bytes());
    payload.push(0);
    Message {
        header: XsdSockmsg {
            kind: XsdSockmsgType::WatchEvent as u32,
            req_id: 0,
            tx_id: 0,
            len: payload.len() as u32,
        },
        payload,
    }
}
