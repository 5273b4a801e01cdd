//! xenstored through its messages: every type, permissions, transactions
//! and their conflicts, watches, and malformed input.

extern crate std;

use super::test_world::{error, ok, value, world};
use super::wire::Message;
use alloc::string::String;
use alloc::vec::Vec;
use std::format;
use xen_abi::xs_wire::{XsdSockmsg, XsdSockmsgType};

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
    assert_eq!(w.ask(d1, XsdSockmsgType::Mkdir, 0, &[b"device/vif"]), ok());
    assert_eq!(
        w.read(d1, 0, "device/vif/0/state"),
        value(b"1"),
        "mkdir keeps what exists"
    );
    assert_eq!(w.ask(d1, XsdSockmsgType::Mkdir, 0, &[b"device/vbd"]), ok());
    assert_eq!(
        w.ask(d1, XsdSockmsgType::Directory, 0, &[b"device"]),
        (XsdSockmsgType::Directory as u32, b"vbd\0vif\0".to_vec())
    );
    assert_eq!(w.ask(d1, XsdSockmsgType::Rm, 0, &[b"device"]), ok());
    assert_eq!(w.read(d1, 0, "device/vif/0/state"), error("ENOENT"));
    assert_eq!(
        w.ask(d1, XsdSockmsgType::Rm, 0, &[b"device"]),
        ok(),
        "absent, parent present"
    );
    assert_eq!(
        w.ask(d1, XsdSockmsgType::Rm, 0, &[b"device/x"]),
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
        w.ask(d2, XsdSockmsgType::Directory, 0, &[b"/local/domain/1"]),
        error("EACCES")
    );
    assert_eq!(
        w.ask(d2, XsdSockmsgType::GetPerms, 0, &[b"/local/domain/1/secret"]),
        error("EACCES")
    );
    assert_eq!(w.write(d1, 0, "/local/domain/2/x", b"x"), error("EACCES"));
    assert_eq!(w.write(d1, 0, "/tool", b"x"), error("EACCES"));
    assert_eq!(w.ask(d1, XsdSockmsgType::SetPerms, 0, &[b"secret", b"n1", b"r2"]), ok());
    assert_eq!(
        w.ask(d1, XsdSockmsgType::GetPerms, 0, &[b"secret"]),
        (XsdSockmsgType::GetPerms as u32, b"n1\0r2\0".to_vec())
    );
    assert_eq!(w.read(d2, 0, "/local/domain/1/secret"), value(b"s"));
    assert_eq!(
        w.ask(d2, XsdSockmsgType::SetPerms, 0, &[b"/local/domain/1/secret", b"b2"]),
        error("EACCES")
    );
    assert_eq!(
        w.ask(d1, XsdSockmsgType::SetPerms, 0, &[b"secret", b"b2"]),
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
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionEnd, tx, &[b"T"]), ok());
    assert_eq!(w.read(d1, 0, "a"), value(b"1"));
    // Abort.
    let tx = w.start(d1);
    assert_eq!(w.write(d1, tx, "b", b"1"), ok());
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionEnd, tx, &[b"F"]), ok());
    assert_eq!(w.read(d1, 0, "b"), error("ENOENT"));
    // Conflict: dom0 changes what the transaction read.
    let tx = w.start(d1);
    assert_eq!(w.read(d1, tx, "a"), value(b"1"));
    assert_eq!(w.write(d1, tx, "c", b"from a"), ok());
    assert_eq!(w.write(dom0, 0, "/local/domain/1/a", b"2"), ok());
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionEnd, tx, &[b"T"]), error("EAGAIN"));
    assert_eq!(w.read(d1, 0, "c"), error("ENOENT"));
    // Ended transactions are gone; unknown ones are ENOENT; nesting EBUSY.
    assert_eq!(w.read(d1, tx, "a"), error("ENOENT"));
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionEnd, 99, &[b"T"]), error("ENOENT"));
    let tx = w.start(d1);
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionStart, tx, &[b""]), error("EBUSY"));
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionEnd, tx, &[b"X"]), error("EINVAL"));
}

#[test]
fn watches_fire_on_changes_below_with_relative_paths_and_respect_permissions() {
    let mut w = world();
    let (d1, d2, dom0) = (w.d1, w.d2, w.dom0);
    assert_eq!(w.ask(d1, XsdSockmsgType::Watch, 0, &[b"device", b"tok"]), ok());
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
        w.ask(d2, XsdSockmsgType::Watch, 0, &[b"/local/domain/2/deep/node", b"t2"]),
        ok()
    );
    w.events(d2);
    assert_eq!(w.write(d2, 0, "/local/domain/2/deep/node", b""), ok());
    w.events(d2);
    assert_eq!(w.ask(d2, XsdSockmsgType::Rm, 0, &[b"/local/domain/2/deep"]), ok());
    assert_eq!(
        w.events(d2),
        [(String::from("/local/domain/2/deep/node"), String::from("t2"))]
    );
    // d2 watching d1's node it cannot read hears nothing of it.
    assert_eq!(w.ask(d2, XsdSockmsgType::Watch, 0, &[b"/local/domain/1", b"spy"]), ok());
    w.events(d2);
    assert_eq!(w.write(d1, 0, "private", b"x"), ok());
    assert!(w.events(d2).is_empty());
    // Transactions fire on commit only.
    let tx = w.start(d1);
    assert_eq!(w.write(d1, tx, "device/vbd", b"1"), ok());
    assert!(w.events(d1).is_empty());
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionEnd, tx, &[b"T"]), ok());
    assert!(
        w.events(d1)
            .contains(&(String::from("device/vbd"), String::from("tok")))
    );
    // Unwatch.
    assert_eq!(w.ask(d1, XsdSockmsgType::Unwatch, 0, &[b"device", b"tok"]), ok());
    assert_eq!(
        w.ask(d1, XsdSockmsgType::Unwatch, 0, &[b"device", b"tok"]),
        error("ENOENT")
    );
    assert_eq!(w.write(d1, 0, "device/x", b""), ok());
    assert!(w.events(d1).is_empty());
}

#[test]
fn introduce_release_and_the_special_watches_are_dom0s() {
    let mut w = world();
    let (d1, dom0) = (w.d1, w.dom0);
    assert_eq!(
        w.ask(dom0, XsdSockmsgType::Watch, 0, &[b"@introduceDomain", b"i"]),
        ok()
    );
    assert_eq!(w.ask(dom0, XsdSockmsgType::Watch, 0, &[b"@releaseDomain", b"r"]), ok());
    w.events(dom0);
    assert_eq!(
        w.ask(d1, XsdSockmsgType::Introduce, 0, &[b"3", b"4660", b"5"]),
        error("EACCES")
    );
    assert_eq!(w.ask(dom0, XsdSockmsgType::Introduce, 0, &[b"3", b"4660", b"5"]), ok());
    assert_eq!(w.events(dom0), [(String::from("@introduceDomain"), String::from("i"))]);
    let introduced = w.xs.introduced()[&3];
    assert_eq!((introduced.ring_frame, introduced.port), (4660, 5));
    assert_eq!(
        w.ask(d1, XsdSockmsgType::IsDomainIntroduced, 0, &[b"3"]),
        (XsdSockmsgType::IsDomainIntroduced as u32, b"T\0".to_vec())
    );
    assert_eq!(w.ask(dom0, XsdSockmsgType::Release, 0, &[b"3"]), ok());
    assert_eq!(w.events(dom0), [(String::from("@releaseDomain"), String::from("r"))]);
    assert_eq!(w.ask(dom0, XsdSockmsgType::Release, 0, &[b"3"]), error("ENOENT"));
    assert_eq!(
        w.ask(d1, XsdSockmsgType::GetDomainPath, 0, &[b"7"]),
        (XsdSockmsgType::GetDomainPath as u32, b"/local/domain/7\0".to_vec())
    );
    assert_eq!(
        w.ask(dom0, XsdSockmsgType::Introduce, 0, &[b"x", b"1", b"1"]),
        error("EINVAL")
    );
}

#[test]
fn a_reply_past_4096_bytes_is_e2big() {
    let mut w = world();
    let d1 = w.d1;
    for index in 0..3 {
        let name = format!("dir/{index}{}", "x".repeat(1800));
        assert_eq!(w.write(d1, 0, &name, b""), ok());
    }
    assert_eq!(w.ask(d1, XsdSockmsgType::Directory, 0, &[b"dir"]), error("E2BIG"));
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
        (XsdSockmsgType::Read as u32, b"a", "EINVAL", "no NUL"),
        (XsdSockmsgType::Read as u32, b"a\0b\0", "EINVAL", "two fields"),
        (XsdSockmsgType::Read as u32, b"", "EINVAL", "no path"),
        (XsdSockmsgType::Write as u32, b"novalue", "EINVAL", "no value"),
        (XsdSockmsgType::Write as u32, b"bad path\0x", "EINVAL", "bad path"),
        (XsdSockmsgType::Watch as u32, b"a\0", "EINVAL", "no token"),
        (
            XsdSockmsgType::WatchEvent as u32,
            b"a\0t\0",
            "EINVAL",
            "server-only type",
        ),
        (XsdSockmsgType::SetPerms as u32, b"a\0", "EINVAL", "no permissions"),
        (XsdSockmsgType::SetPerms as u32, b"\0q9\0", "EINVAL", "bad permission"),
        (
            XsdSockmsgType::GetDomainPath as u32,
            b"99999\0",
            "EINVAL",
            "domid too big",
        ),
        (
            XsdSockmsgType::TransactionEnd as u32,
            b"T\0",
            "ENOENT",
            "no transaction",
        ),
        (XsdSockmsgType::Write as u32, &big, "E2BIG", "payload past 4096"),
    ];
    for (kind, payload, expected, what) in malformed {
        assert_eq!(w.send(d1, kind, 0, payload.to_vec()), error(expected), "{what}");
    }
    // A header whose length disagrees with the payload.
    let message = Message {
        header: XsdSockmsg {
            kind: XsdSockmsgType::Read as u32,
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
fn a_disconnected_domain_leaves_no_watches_or_transactions() {
    let mut w = world();
    let (d1, dom0) = (w.d1, w.dom0);
    assert_eq!(w.ask(d1, XsdSockmsgType::Watch, 0, &[b"x", b"t"]), ok());
    let _tx = w.start(d1);
    w.xs.disconnect(d1);
    assert_eq!(w.write(dom0, 0, "/local/domain/1/x", b"1"), ok());
    assert!(w.xs.take_output(d1).is_none());
    // Messages from a closed connection are dropped.
    w.xs.handle(
        d1,
        &Message::reply(
            &XsdSockmsg {
                kind: 2,
                req_id: 0,
                tx_id: 0,
                len: 0,
            },
            XsdSockmsgType::Read,
            Vec::new(),
        ),
    );
    assert!(w.xs.take_output(d1).is_none());
}

#[test]
fn reset_watches_drops_a_connections_watches_and_control_answers() {
    let mut w = world();
    let (d1, dom0) = (w.d1, w.dom0);
    assert_eq!(w.ask(d1, XsdSockmsgType::Watch, 0, &[b"a", b"1"]), ok());
    assert_eq!(w.ask(d1, XsdSockmsgType::Watch, 0, &[b"b", b"2"]), ok());
    w.events(d1);
    assert_eq!(w.ask(d1, XsdSockmsgType::ResetWatches, 0, &[]), ok());
    assert_eq!(w.write(dom0, 0, "/local/domain/1/a", b"x"), ok());
    assert!(w.events(d1).is_empty(), "no watch left");
    assert_eq!(w.ask(d1, XsdSockmsgType::Unwatch, 0, &[b"a", b"1"]), error("ENOENT"));
    assert_eq!(w.ask(d1, XsdSockmsgType::Control, 0, &[b"print", b"hello"]), ok());
}

#[test]
fn an_in_process_request_keeps_the_events_queued_before_it_and_by_it() {
    let mut w = world();
    let (d1, dom0) = (w.d1, w.dom0);
    assert_eq!(w.write(d1, 0, "y", b"0"), ok());
    assert_eq!(
        w.ask(dom0, XsdSockmsgType::Watch, 0, &[b"/local/domain/1/x", b"request"]),
        ok()
    );
    assert_eq!(
        w.ask(dom0, XsdSockmsgType::Watch, 0, &[b"/local/domain/1/y", b"device"]),
        ok()
    );
    assert_eq!(w.events(dom0).len(), 2, "the watches' first events");
    assert!(!w.xs.has_output(dom0));
    // As in dom0's services: a domU's request fires dom0's watch, then dom0
    // cleans up after another domain, which fires its own watch.
    assert_eq!(w.write(d1, 0, "x", b"ping"), ok());
    assert!(w.xs.has_output(dom0));
    let read =
        w.xs.request(dom0, XsdSockmsgType::Read, &[b"/local/domain/1/x"])
            .unwrap();
    assert_eq!(
        (read.header.kind, read.payload),
        (XsdSockmsgType::Read as u32, b"ping".to_vec())
    );
    let write =
        w.xs.request(dom0, XsdSockmsgType::Write, &[b"/local/domain/1/z", b"v"])
            .unwrap();
    assert_eq!(
        (write.header.kind, write.payload),
        (XsdSockmsgType::Write as u32, b"OK\0".to_vec())
    );
    let rm = w.xs.request(dom0, XsdSockmsgType::Rm, &[b"/local/domain/1/y"]).unwrap();
    assert_eq!(
        (rm.header.kind, rm.payload),
        (XsdSockmsgType::Rm as u32, b"OK\0".to_vec())
    );
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
        w.xs.request(99, XsdSockmsgType::Read, &[b"/local/domain/1/x"])
            .is_none(),
        "no such connection"
    );
}
