//! xenstored through its messages: every type, permissions, transactions
//! and their conflicts, watches, quotas, and malformed input.

extern crate std;

use super::watches::ConnId;
use super::wire::{Header, Message, MessageType};
use super::xenstored::{Quotas, Xenstored};
use alloc::string::String;
use alloc::vec::Vec;
use std::format;

struct World {
    xs: Xenstored,
    dom0: ConnId,
    d1: ConnId,
    d2: ConnId,
    next_req: u32,
    /// Events that arrived ahead of a reply, for [`World::events`].
    early: std::collections::BTreeMap<ConnId, Vec<Message>>,
}

/// dom0, d1 and d2 connected; dom0 has made each domU's home, as a
/// toolstack does.
fn world() -> World {
    world_with(Quotas::default())
}

fn world_with(quotas: Quotas) -> World {
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
        assert_eq!(w.ask(dom0, MessageType::Mkdir, 0, &[home.as_bytes()]), ok());
        let owner = format!("n{id}");
        assert_eq!(
            w.ask(dom0, MessageType::SetPerms, 0, &[home.as_bytes(), owner.as_bytes()]),
            ok()
        );
    }
    w
}

/// A reply: its type and payload.
type Answer = (u32, Vec<u8>);

fn ok() -> Answer {
    (MessageType::Write as u32, b"OK\0".to_vec()) // kind checked separately where it matters
}

fn error(name: &str) -> Answer {
    let mut payload = Vec::from(name.as_bytes());
    payload.push(0);
    (MessageType::Error as u32, payload)
}

impl World {
    /// Sends a request of `kind` with NUL-terminated `fields`; the reply.
    fn ask(&mut self, conn: ConnId, kind: MessageType, tx: u32, fields: &[&[u8]]) -> Answer {
        let mut payload = Vec::new();
        for field in fields {
            payload.extend_from_slice(field);
            payload.push(0);
        }
        self.send(conn, kind as u32, tx, payload)
    }

    /// Sends a raw request; the reply (events queued before it are kept
    /// for [`World::events`]).
    fn send(&mut self, conn: ConnId, kind: u32, tx: u32, payload: Vec<u8>) -> Answer {
        let req_id = self.next_req;
        self.next_req += 1;
        let message = Message {
            header: Header {
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
            if reply.header.kind == MessageType::WatchEvent as u32 {
                self.early.entry(conn).or_default().push(reply);
                continue;
            }
            assert_eq!(reply.header.req_id, req_id, "the reply echoes req_id");
            let kind = if reply.payload == b"OK\0" {
                MessageType::Write as u32
            } else {
                reply.header.kind
            };
            return (kind, reply.payload);
        }
    }

    /// WRITE `path` = `value` (value without a NUL).
    fn write(&mut self, conn: ConnId, tx: u32, path: &str, value: &[u8]) -> Answer {
        let mut payload = Vec::from(path.as_bytes());
        payload.push(0);
        payload.extend_from_slice(value);
        self.send(conn, MessageType::Write as u32, tx, payload)
    }

    fn read(&mut self, conn: ConnId, tx: u32, path: &str) -> Answer {
        self.ask(conn, MessageType::Read, tx, &[path.as_bytes()])
    }

    /// The watch events queued for `conn`: (path, token).
    fn events(&mut self, conn: ConnId) -> Vec<(String, String)> {
        let mut events = Vec::new();
        let early = self.early.remove(&conn).unwrap_or_default();
        let later = core::iter::from_fn(|| self.xs.take_output(conn));
        for message in early.into_iter().chain(later) {
            assert_eq!(
                message.header.kind,
                MessageType::WatchEvent as u32,
                "only events are left"
            );
            let text = String::from_utf8(message.payload).unwrap();
            let mut parts = text.split('\0');
            events.push((String::from(parts.next().unwrap()), String::from(parts.next().unwrap())));
        }
        events
    }

    fn start(&mut self, conn: ConnId) -> u32 {
        let (kind, payload) = self.ask(conn, MessageType::TransactionStart, 0, &[b""]);
        assert_eq!(kind, MessageType::TransactionStart as u32, "{payload:?}");
        core::str::from_utf8(&payload[..payload.len() - 1])
            .unwrap()
            .parse()
            .unwrap()
    }
}

fn value(bytes: &[u8]) -> Answer {
    (MessageType::Read as u32, bytes.to_vec())
}

#[test]
fn read_write_mkdir_directory_and_rm() {
    let mut w = world();
    let d1 = w.d1;
    assert_eq!(w.write(d1, 0, "device/vif/0/state", b"1"), ok());
    assert_eq!(w.read(d1, 0, "device/vif/0/state"), value(b"1"));
    assert_eq!(
        w.read(d1, 0, "/local/domain/1/device/vif/0/state"),
        value(b"1"),
        "absolute too"
    );
    assert_eq!(w.read(d1, 0, "device/vif"), value(b""), "parents are created empty");
    assert_eq!(w.ask(d1, MessageType::Mkdir, 0, &[b"device/vif"]), ok());
    assert_eq!(
        w.read(d1, 0, "device/vif/0/state"),
        value(b"1"),
        "mkdir keeps what exists"
    );
    assert_eq!(w.ask(d1, MessageType::Mkdir, 0, &[b"device/vbd"]), ok());
    assert_eq!(
        w.ask(d1, MessageType::Directory, 0, &[b"device"]),
        (MessageType::Directory as u32, b"vbd\0vif\0".to_vec())
    );
    assert_eq!(w.ask(d1, MessageType::Rm, 0, &[b"device"]), ok());
    assert_eq!(w.read(d1, 0, "device/vif/0/state"), error("ENOENT"));
    assert_eq!(
        w.ask(d1, MessageType::Rm, 0, &[b"device"]),
        ok(),
        "absent, parent present"
    );
    assert_eq!(
        w.ask(d1, MessageType::Rm, 0, &[b"device/x"]),
        error("ENOENT"),
        "parent absent"
    );
    // A value with NULs in it is kept whole.
    assert_eq!(w.write(d1, 0, "blob", b"a\0b"), ok());
    assert_eq!(w.read(d1, 0, "blob"), value(b"a\0b"));
}

#[test]
fn permissions_keep_domains_apart_and_can_be_granted() {
    let mut w = world();
    let (d1, d2) = (w.d1, w.d2);
    assert_eq!(w.write(d1, 0, "secret", b"s"), ok());
    assert_eq!(w.read(d2, 0, "/local/domain/1/secret"), error("EACCES"));
    assert_eq!(w.write(d2, 0, "/local/domain/1/secret", b"x"), error("EACCES"));
    assert_eq!(
        w.ask(d2, MessageType::Directory, 0, &[b"/local/domain/1"]),
        error("EACCES")
    );
    assert_eq!(
        w.ask(d2, MessageType::GetPerms, 0, &[b"/local/domain/1/secret"]),
        error("EACCES")
    );
    assert_eq!(w.write(d1, 0, "/local/domain/2/x", b"x"), error("EACCES"));
    assert_eq!(w.write(d1, 0, "/tool", b"x"), error("EACCES"));
    assert_eq!(w.ask(d1, MessageType::SetPerms, 0, &[b"secret", b"n1", b"r2"]), ok());
    assert_eq!(
        w.ask(d1, MessageType::GetPerms, 0, &[b"secret"]),
        (MessageType::GetPerms as u32, b"n1\0r2\0".to_vec())
    );
    assert_eq!(w.read(d2, 0, "/local/domain/1/secret"), value(b"s"));
    assert_eq!(
        w.ask(d2, MessageType::SetPerms, 0, &[b"/local/domain/1/secret", b"b2"]),
        error("EACCES")
    );
    assert_eq!(
        w.ask(d1, MessageType::SetPerms, 0, &[b"secret", b"b2"]),
        error("EACCES"),
        "no giving away"
    );
    let dom0 = w.dom0;
    assert_eq!(w.read(dom0, 0, "/local/domain/1/secret"), value(b"s"));
}

#[test]
fn transactions_commit_abort_and_conflict() {
    let mut w = world();
    let (d1, dom0) = (w.d1, w.dom0);
    let tx = w.start(d1);
    assert_eq!(w.write(d1, tx, "a", b"1"), ok());
    assert_eq!(w.read(d1, tx, "a"), value(b"1"));
    assert_eq!(w.read(d1, 0, "a"), error("ENOENT"), "not visible outside");
    assert_eq!(w.ask(d1, MessageType::TransactionEnd, tx, &[b"T"]), ok());
    assert_eq!(w.read(d1, 0, "a"), value(b"1"));
    // Abort.
    let tx = w.start(d1);
    assert_eq!(w.write(d1, tx, "b", b"1"), ok());
    assert_eq!(w.ask(d1, MessageType::TransactionEnd, tx, &[b"F"]), ok());
    assert_eq!(w.read(d1, 0, "b"), error("ENOENT"));
    // Conflict: dom0 changes what the transaction read.
    let tx = w.start(d1);
    assert_eq!(w.read(d1, tx, "a"), value(b"1"));
    assert_eq!(w.write(d1, tx, "c", b"from a"), ok());
    assert_eq!(w.write(dom0, 0, "/local/domain/1/a", b"2"), ok());
    assert_eq!(w.ask(d1, MessageType::TransactionEnd, tx, &[b"T"]), error("EAGAIN"));
    assert_eq!(w.read(d1, 0, "c"), error("ENOENT"));
    // Ended transactions are gone; unknown ones are ENOENT; nesting EBUSY.
    assert_eq!(w.read(d1, tx, "a"), error("ENOENT"));
    assert_eq!(w.ask(d1, MessageType::TransactionEnd, 99, &[b"T"]), error("ENOENT"));
    let tx = w.start(d1);
    assert_eq!(w.ask(d1, MessageType::TransactionStart, tx, &[b""]), error("EBUSY"));
    assert_eq!(w.ask(d1, MessageType::TransactionEnd, tx, &[b"X"]), error("EINVAL"));
}

#[test]
fn watches_fire_on_changes_below_with_relative_paths_and_respect_permissions() {
    let mut w = world();
    let (d1, d2, dom0) = (w.d1, w.d2, w.dom0);
    assert_eq!(w.ask(d1, MessageType::Watch, 0, &[b"device", b"tok"]), ok());
    assert_eq!(
        w.events(d1),
        [(String::from("device"), String::from("tok"))],
        "fires once at once"
    );
    assert_eq!(w.write(dom0, 0, "/local/domain/1/device/vif", b"x"), ok());
    assert_eq!(w.events(d1), [(String::from("device/vif"), String::from("tok"))]);
    assert_eq!(w.write(d1, 0, "unrelated", b"x"), ok());
    assert!(w.events(d1).is_empty());
    // Removal of a parent reports the watched path itself.
    assert_eq!(
        w.ask(d2, MessageType::Watch, 0, &[b"/local/domain/2/deep/node", b"t2"]),
        ok()
    );
    w.events(d2);
    assert_eq!(w.write(d2, 0, "/local/domain/2/deep/node", b""), ok());
    w.events(d2);
    assert_eq!(w.ask(d2, MessageType::Rm, 0, &[b"/local/domain/2/deep"]), ok());
    assert_eq!(
        w.events(d2),
        [(String::from("/local/domain/2/deep/node"), String::from("t2"))]
    );
    // d2 watching d1's node it cannot read hears nothing of it.
    assert_eq!(w.ask(d2, MessageType::Watch, 0, &[b"/local/domain/1", b"spy"]), ok());
    w.events(d2);
    assert_eq!(w.write(d1, 0, "private", b"x"), ok());
    assert!(w.events(d2).is_empty());
    // Transactions fire on commit only.
    let tx = w.start(d1);
    assert_eq!(w.write(d1, tx, "device/vbd", b"1"), ok());
    assert!(w.events(d1).is_empty());
    assert_eq!(w.ask(d1, MessageType::TransactionEnd, tx, &[b"T"]), ok());
    assert!(
        w.events(d1)
            .contains(&(String::from("device/vbd"), String::from("tok")))
    );
    // Unwatch.
    assert_eq!(w.ask(d1, MessageType::Unwatch, 0, &[b"device", b"tok"]), ok());
    assert_eq!(
        w.ask(d1, MessageType::Unwatch, 0, &[b"device", b"tok"]),
        error("ENOENT")
    );
    assert_eq!(w.write(d1, 0, "device/x", b""), ok());
    assert!(w.events(d1).is_empty());
}

#[test]
fn introduce_release_and_the_special_watches_are_dom0s() {
    let mut w = world();
    let (d1, dom0) = (w.d1, w.dom0);
    assert_eq!(w.ask(dom0, MessageType::Watch, 0, &[b"@introduceDomain", b"i"]), ok());
    assert_eq!(w.ask(dom0, MessageType::Watch, 0, &[b"@releaseDomain", b"r"]), ok());
    w.events(dom0);
    assert_eq!(
        w.ask(d1, MessageType::Introduce, 0, &[b"3", b"4660", b"5"]),
        error("EACCES")
    );
    assert_eq!(w.ask(dom0, MessageType::Introduce, 0, &[b"3", b"4660", b"5"]), ok());
    assert_eq!(w.events(dom0), [(String::from("@introduceDomain"), String::from("i"))]);
    let introduced = w.xs.introduced()[&3];
    assert_eq!((introduced.ring_frame, introduced.port), (4660, 5));
    assert_eq!(
        w.ask(d1, MessageType::IsDomainIntroduced, 0, &[b"3"]),
        (MessageType::IsDomainIntroduced as u32, b"T\0".to_vec())
    );
    assert_eq!(w.ask(dom0, MessageType::Release, 0, &[b"3"]), ok());
    assert_eq!(w.events(dom0), [(String::from("@releaseDomain"), String::from("r"))]);
    assert_eq!(w.ask(dom0, MessageType::Release, 0, &[b"3"]), error("ENOENT"));
    assert_eq!(
        w.ask(d1, MessageType::GetDomainPath, 0, &[b"7"]),
        (MessageType::GetDomainPath as u32, b"/local/domain/7\0".to_vec())
    );
    assert_eq!(
        w.ask(dom0, MessageType::Introduce, 0, &[b"x", b"1", b"1"]),
        error("EINVAL")
    );
}

#[test]
fn quotas_hold_for_nodes_values_watches_and_transactions() {
    let mut w = world_with(Quotas {
        nodes: 4,
        value_size: 8,
        watches: 2,
        transactions: 1,
        ..Quotas::default()
    });
    let d1 = w.d1;
    assert_eq!(w.write(d1, 0, "a/b/c", b""), ok()); // home + 3
    assert_eq!(w.write(d1, 0, "d", b""), error("ENOSPC"));
    assert_eq!(w.write(d1, 0, "a", b"123456789"), error("ENOSPC"), "value too big");
    assert_eq!(w.ask(d1, MessageType::Watch, 0, &[b"a", b"1"]), ok());
    assert_eq!(w.ask(d1, MessageType::Watch, 0, &[b"a", b"2"]), ok());
    assert_eq!(w.ask(d1, MessageType::Watch, 0, &[b"a", b"3"]), error("ENOSPC"));
    assert_eq!(w.ask(d1, MessageType::Watch, 0, &[b"a", b"1"]), error("EEXIST"));
    w.events(d1);
    assert_eq!(
        w.ask(d1, MessageType::Watch, 0, &[b"x", &[b't'; 257]]),
        error("EINVAL"),
        "token too long"
    );
    let _tx = w.start(d1);
    assert_eq!(w.ask(d1, MessageType::TransactionStart, 0, &[b""]), error("ENOSPC"));
}

#[test]
fn byte_quotas_keep_a_domain_from_filling_dom0s_memory() {
    let mut w = world_with(Quotas {
        bytes: 200,
        ..Quotas::default()
    });
    let d1 = w.d1;
    // The home (15 bytes of path, 4 of permission) plus a node of 76 bytes
    // of path, 100 of value and 4 of permission: 199.
    let first = w.write(d1, 0, &"a".repeat(60), &[b'v'; 100]);
    assert_eq!(first, ok(), "{}", w.xs.tree().bytes_owned_by(1));
    assert_eq!(w.write(d1, 0, "b", &[b'v'; 100]), error("ENOSPC"));
    // Growing a value counts too; shrinking frees room.
    let long = "a".repeat(60);
    assert_eq!(w.write(d1, 0, &long, &[b'v'; 120]), error("ENOSPC"));
    assert_eq!(w.write(d1, 0, &long, b"short"), ok());
    assert_eq!(w.write(d1, 0, "b", &[b'v'; 70]), ok()); // 19 + 85 + 17 + 70 + 4 = 195
    // A deep path is refused before anything is built for it.
    let deep = String::from("/local/domain/1") + &"/a".repeat(1500);
    assert_eq!(w.write(d1, 0, &deep, b""), error("ENOSPC"));
}

#[test]
fn transactions_are_limited_in_all_and_in_what_they_touch() {
    let mut w = world_with(Quotas {
        all_transactions: 1,
        ..Quotas::default()
    });
    let (d1, d2) = (w.d1, w.d2);
    let tx = w.start(d1);
    assert_eq!(
        w.ask(d2, MessageType::TransactionStart, 0, &[b""]),
        error("EAGAIN"),
        "none left"
    );
    for index in 0..super::transaction::MAX_TOUCHED {
        let path = format!("n{index}");
        let answer = w.read(d1, tx, &path);
        assert_eq!(answer, error("ENOENT"), "{path}");
    }
    assert_eq!(
        w.read(d1, tx, "one-more"),
        error("ENOSPC"),
        "the transaction touched enough"
    );
    assert_eq!(w.ask(d1, MessageType::TransactionEnd, tx, &[b"F"]), ok());
    let _ = w.start(d2);
}

#[test]
fn a_reply_past_4096_bytes_is_e2big() {
    let mut w = world();
    let d1 = w.d1;
    for index in 0..3 {
        let name = format!("dir/{index}{}", "x".repeat(1800));
        assert_eq!(w.write(d1, 0, &name, b""), ok());
    }
    assert_eq!(w.ask(d1, MessageType::Directory, 0, &[b"dir"]), error("E2BIG"));
}

#[test]
fn malformed_requests_get_errors_and_change_nothing() {
    let mut w = world();
    let d1 = w.d1;
    let before: Vec<_> =
        w.xs.tree()
            .nodes()
            .map(|(path, node)| (path.clone(), node.clone()))
            .collect();
    let big = alloc::vec![b'a'; 5000];
    let malformed: [(u32, &[u8], &str, &str); 14] = [
        (99, b"x\0", "ENOSYS", "unknown type"),
        (20, b"x\0", "ENOSYS", "removed type"),
        (MessageType::Read as u32, b"a", "EINVAL", "no NUL"),
        (MessageType::Read as u32, b"a\0b\0", "EINVAL", "two fields"),
        (MessageType::Read as u32, b"", "EINVAL", "no path"),
        (MessageType::Write as u32, b"novalue", "EINVAL", "no value"),
        (MessageType::Write as u32, b"bad path\0x", "EINVAL", "bad path"),
        (MessageType::Watch as u32, b"a\0", "EINVAL", "no token"),
        (MessageType::WatchEvent as u32, b"a\0t\0", "EINVAL", "server-only type"),
        (MessageType::SetPerms as u32, b"a\0", "EINVAL", "no permissions"),
        (MessageType::SetPerms as u32, b"\0q9\0", "EINVAL", "bad permission"),
        (MessageType::GetDomainPath as u32, b"99999\0", "EINVAL", "domid too big"),
        (MessageType::TransactionEnd as u32, b"T\0", "ENOENT", "no transaction"),
        (MessageType::Write as u32, &big, "E2BIG", "payload past 4096"),
    ];
    for (kind, payload, expected, what) in malformed {
        assert_eq!(w.send(d1, kind, 0, payload.to_vec()), error(expected), "{what}");
    }
    // A header whose length disagrees with the payload.
    let message = Message {
        header: Header {
            kind: MessageType::Read as u32,
            req_id: 1,
            tx_id: 0,
            len: 100,
        },
        payload: b"a\0".to_vec(),
    };
    w.xs.handle(d1, &message);
    assert_eq!(w.xs.take_output(d1).unwrap().payload, b"E2BIG\0");
    let after: Vec<_> =
        w.xs.tree()
            .nodes()
            .map(|(path, node)| (path.clone(), node.clone()))
            .collect();
    assert!(before == after, "nothing changed");
}

#[test]
fn a_client_that_never_reads_loses_old_events_not_replies() {
    // Room for ten events of "x\0t\0" (each charged its record too).
    let event = super::outbox::MESSAGE_COST + 4;
    let mut w = world_with(Quotas {
        queued_bytes: 10 * event,
        ..Quotas::default()
    });
    let (d1, dom0) = (w.d1, w.dom0);
    assert_eq!(w.ask(d1, MessageType::Watch, 0, &[b"x", b"t"]), ok());
    for round in 0..20 {
        let text = format!("{round}");
        assert_eq!(w.write(dom0, 0, "/local/domain/1/x", text.as_bytes()), ok());
    }
    // Ten fit, plus the watch's first event, kept aside by the test while
    // it read the reply; the newest are kept.
    let events = w.events(d1);
    assert!(
        (10..=11).contains(&events.len()),
        "the queue is bounded: {}",
        events.len()
    );
}

#[test]
fn a_disconnected_domain_leaves_no_watches_or_transactions() {
    let mut w = world();
    let (d1, dom0) = (w.d1, w.dom0);
    assert_eq!(w.ask(d1, MessageType::Watch, 0, &[b"x", b"t"]), ok());
    let _tx = w.start(d1);
    w.xs.disconnect(d1);
    assert_eq!(w.write(dom0, 0, "/local/domain/1/x", b"1"), ok());
    assert!(w.xs.take_output(d1).is_none());
    // Messages from a closed connection are dropped.
    w.xs.handle(
        d1,
        &Message::reply(
            &Header {
                kind: 2,
                req_id: 0,
                tx_id: 0,
                len: 0,
            },
            MessageType::Read,
            Vec::new(),
        ),
    );
    assert!(w.xs.take_output(d1).is_none());
}

#[test]
fn reset_watches_drops_a_connections_watches_and_control_answers() {
    let mut w = world();
    let (d1, dom0) = (w.d1, w.dom0);
    assert_eq!(w.ask(d1, MessageType::Watch, 0, &[b"a", b"1"]), ok());
    assert_eq!(w.ask(d1, MessageType::Watch, 0, &[b"b", b"2"]), ok());
    w.events(d1);
    assert_eq!(w.ask(d1, MessageType::ResetWatches, 0, &[]), ok());
    assert_eq!(w.write(dom0, 0, "/local/domain/1/a", b"x"), ok());
    assert!(w.events(d1).is_empty(), "no watch left");
    assert_eq!(w.ask(d1, MessageType::Unwatch, 0, &[b"a", b"1"]), error("ENOENT"));
    assert_eq!(w.ask(d1, MessageType::Control, 0, &[b"print", b"hello"]), ok());
}

#[test]
fn a_transaction_touching_long_paths_is_cut_off_by_bytes_not_only_by_count() {
    let mut w = world();
    let d1 = w.d1;
    let tx = w.start(d1);
    let long = "x".repeat(2000);
    let mut reads = 0;
    loop {
        let path = format!("{reads}{long}");
        match w.read(d1, tx, &path) {
            answer if answer == error("ENOENT") => reads += 1,
            answer => {
                assert_eq!(answer, error("ENOSPC"));
                break;
            }
        }
        assert!(reads < 100, "never cut off");
    }
    // 64 KiB of ~2 KiB paths (absolute: the home is prefixed).
    assert!((25..=35).contains(&reads), "{reads} reads");
}

#[test]
fn an_owner_pushed_over_its_quota_may_still_rewrite_in_place() {
    let mut w = world_with(Quotas {
        bytes: 200,
        ..Quotas::default()
    });
    let (d1, dom0) = (w.d1, w.dom0);
    assert_eq!(w.write(d1, 0, "state", b"1"), ok());
    // dom0 fills d1's node past d1's quota.
    assert_eq!(w.write(dom0, 0, "/local/domain/1/state", &[b'v'; 300]), ok());
    assert_eq!(w.write(d1, 0, "state", &[b'w'; 300]), ok(), "same size: allowed");
    assert_eq!(w.write(d1, 0, "state", b"4"), ok(), "shrinking: allowed");
    assert_eq!(w.write(d1, 0, "other", b"x"), ok(), "back under the quota");
}

#[test]
fn an_in_process_request_keeps_the_events_queued_before_it_and_by_it() {
    let mut w = world();
    let (d1, dom0) = (w.d1, w.dom0);
    assert_eq!(w.write(d1, 0, "y", b"0"), ok());
    assert_eq!(
        w.ask(dom0, MessageType::Watch, 0, &[b"/local/domain/1/x", b"request"]),
        ok()
    );
    assert_eq!(
        w.ask(dom0, MessageType::Watch, 0, &[b"/local/domain/1/y", b"device"]),
        ok()
    );
    assert_eq!(w.events(dom0).len(), 2, "the watches' first events");
    assert!(!w.xs.has_output(dom0));
    // As in dom0's services: a domU's request fires dom0's watch, then dom0
    // cleans up after another domain, which fires its own watch.
    assert_eq!(w.write(d1, 0, "x", b"ping"), ok());
    assert!(w.xs.has_output(dom0));
    let read = w.xs.request(dom0, MessageType::Read, &[b"/local/domain/1/x"]).unwrap();
    assert_eq!(
        (read.header.kind, read.payload),
        (MessageType::Read as u32, b"ping".to_vec())
    );
    let write =
        w.xs.request(dom0, MessageType::Write, &[b"/local/domain/1/z", b"v"])
            .unwrap();
    assert_eq!(
        (write.header.kind, write.payload),
        (MessageType::Write as u32, b"OK\0".to_vec())
    );
    let rm = w.xs.request(dom0, MessageType::Rm, &[b"/local/domain/1/y"]).unwrap();
    assert_eq!((rm.header.kind, rm.payload), (MessageType::Rm as u32, b"OK\0".to_vec()));
    assert_eq!(
        w.events(dom0),
        [
            (String::from("/local/domain/1/x"), String::from("request")),
            (String::from("/local/domain/1/y"), String::from("device")),
        ]
    );
    assert_eq!(
        w.read(dom0, 0, "/local/domain/1/z"),
        value(b"v"),
        "a WRITE's value has no NUL"
    );
    assert!(
        w.xs.request(99, MessageType::Read, &[b"/local/domain/1/x"]).is_none(),
        "no such connection"
    );
}
