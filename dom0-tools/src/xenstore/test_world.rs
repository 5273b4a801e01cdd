//! The world xenstored's message tests run in: dom0, d1 and d2 connected,
//! each domU's home made, and helpers to ask and read the answers.

extern crate std;

use super::watches::ConnId;
use super::wire::Message;
use super::xenstored::{Quotas, Xenstored};
use alloc::string::String;
use alloc::vec::Vec;
use std::format;
use xen_abi::xs_wire::{XsdSockmsg, XsdSockmsgType};

pub(super) struct World {
    pub(super) xs: Xenstored,
    pub(super) dom0: ConnId,
    pub(super) d1: ConnId,
    pub(super) d2: ConnId,
    next_req: u32,
    /// Events that arrived ahead of a reply, for [`World::events`].
    early: std::collections::BTreeMap<ConnId, Vec<Message>>,
}

/// dom0, d1 and d2 connected; dom0 has made each domU's home, as a
/// toolstack does.
pub(super) fn world() -> World {
    world_with(Quotas::default())
}

pub(super) fn world_with(quotas: Quotas) -> World {
    let mut xs = Xenstored::new(quotas);
    let dom0 = xs.connect(0, true);
    let d1 = xs.connect(1, false);
    let d2 = xs.connect(2, false);
    let mut w = World {
        xs,
        dom0,
        d1,
        d2,
        next_req: 1,
        early: std::collections::BTreeMap::new(),
    };
    for id in [1, 2] {
        let home = format!("/local/domain/{id}");
        assert_eq!(w.ask(dom0, XsdSockmsgType::Mkdir, 0, &[home.as_bytes()]), ok());
        let owner = format!("n{id}");
        assert_eq!(
            w.ask(dom0, XsdSockmsgType::SetPerms, 0, &[home.as_bytes(), owner.as_bytes()]),
            ok()
        );
    }
    w
}

/// A reply: its type and payload.
type Answer = (u32, Vec<u8>);

pub(super) fn ok() -> Answer {
    (XsdSockmsgType::Write as u32, b"OK\0".to_vec()) // kind checked separately where it matters
}

pub(super) fn error(name: &str) -> Answer {
    let mut payload = Vec::from(name.as_bytes());
    payload.push(0);
    (XsdSockmsgType::Error as u32, payload)
}

impl World {
    /// Sends a request of `kind` with NUL-terminated `fields`; the reply.
    pub(super) fn ask(&mut self, conn: ConnId, kind: XsdSockmsgType, tx: u32, fields: &[&[u8]]) -> Answer {
        let mut payload = Vec::new();
        for field in fields {
            payload.extend_from_slice(field);
            payload.push(0);
        }
        self.send(conn, kind as u32, tx, payload)
    }

    /// Sends a raw request; the reply (events queued before it are kept
    /// for [`World::events`]).
    pub(super) fn send(&mut self, conn: ConnId, kind: u32, tx: u32, payload: Vec<u8>) -> Answer {
        let req_id = self.next_req;
        self.next_req += 1;
        let message = Message {
            header: XsdSockmsg {
                kind,
                req_id,
                tx_id: tx,
                len: payload.len() as u32,
            },
            payload,
        };
        self.xs.handle(conn, &message);
        loop {
            let reply = self.xs.take_output(conn).expect("every request gets a reply");
            if reply.header.kind == XsdSockmsgType::WatchEvent as u32 {
                self.early.entry(conn).or_default().push(reply);
                continue;
            }
            assert_eq!(reply.header.req_id, req_id, "the reply echoes req_id");
            let kind = if reply.payload == b"OK\0" {
                XsdSockmsgType::Write as u32
            } else {
                reply.header.kind
            };
            return (kind, reply.payload);
        }
    }

    /// WRITE `path` = `value` (value without a NUL).
    pub(super) fn write(&mut self, conn: ConnId, tx: u32, path: &str, value: &[u8]) -> Answer {
        let mut payload = Vec::from(path.as_bytes());
        payload.push(0);
        payload.extend_from_slice(value);
        self.send(conn, XsdSockmsgType::Write as u32, tx, payload)
    }

    pub(super) fn read(&mut self, conn: ConnId, tx: u32, path: &str) -> Answer {
        self.ask(conn, XsdSockmsgType::Read, tx, &[path.as_bytes()])
    }

    /// The watch events queued for `conn`: (path, token).
    pub(super) fn events(&mut self, conn: ConnId) -> Vec<(String, String)> {
        let mut events = Vec::new();
        let early = self.early.remove(&conn).unwrap_or_default();
        let later = core::iter::from_fn(|| self.xs.take_output(conn));
        for message in early.into_iter().chain(later) {
            assert_eq!(
                message.header.kind,
                XsdSockmsgType::WatchEvent as u32,
                "only events are left"
            );
            let text = String::from_utf8(message.payload).unwrap();
            let mut parts = text.split('\0');
            events.push((String::from(parts.next().unwrap()), String::from(parts.next().unwrap())));
        }
        events
    }

    pub(super) fn start(&mut self, conn: ConnId) -> u32 {
        let (kind, payload) = self.ask(conn, XsdSockmsgType::TransactionStart, 0, &[b""]);
        assert_eq!(kind, XsdSockmsgType::TransactionStart as u32, "{payload:?}");
        core::str::from_utf8(&payload[..payload.len() - 1])
            .unwrap()
            .parse()
            .unwrap()
    }
}

pub(super) fn value(bytes: &[u8]) -> Answer {
    (XsdSockmsgType::Read as u32, bytes.to_vec())
}
