//! xenstored's quotas through its messages: what a domain may own, queue
//! and hold open, so that no domU can exhaust dom0.

extern crate std;

use super::node_store::NodeStore;
use super::test_world::{error, ok, world, world_with};
use super::transaction::{MAX_TRANSACTION_BYTES, RECORD_COST};
use super::xenstored::Quotas;
use alloc::string::String;
use std::format;
use xen_abi::xs_wire::XsdSockmsgType;

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
    assert_eq!(w.ask(d1, XsdSockmsgType::Watch, 0, &[b"a", b"1"]), ok());
    assert_eq!(w.ask(d1, XsdSockmsgType::Watch, 0, &[b"a", b"2"]), ok());
    assert_eq!(w.ask(d1, XsdSockmsgType::Watch, 0, &[b"a", b"3"]), error("ENOSPC"));
    assert_eq!(w.ask(d1, XsdSockmsgType::Watch, 0, &[b"a", b"1"]), error("EEXIST"));
    w.events(d1);
    assert_eq!(
        w.ask(d1, XsdSockmsgType::Watch, 0, &[b"x", &[b't'; 257]]),
        error("EINVAL"),
        "token too long"
    );
    let _tx = w.start(d1);
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionStart, 0, &[b""]), error("ENOSPC"));
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
        w.ask(d2, XsdSockmsgType::TransactionStart, 0, &[b""]),
        error("EAGAIN"),
        "none left"
    );
    // Each read of an absent "/local/domain/1/nNNN" is a record of some
    // 84 bytes: the transaction's budget holds about 390 of them.
    let mut reads = 0;
    while w.read(d1, tx, &format!("n{reads}")) == error("ENOENT") {
        reads += 1;
        assert!(reads < 1024, "never cut off");
    }
    assert_eq!(
        w.read(d1, tx, "one-more"),
        error("ENOSPC"),
        "the transaction touched enough"
    );
    let record = super::transaction::RECORD_COST + "/local/domain/1/n100".len();
    assert!(reads >= MAX_TRANSACTION_BYTES / (record + 1), "{reads} reads");
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionEnd, tx, &[b"F"]), ok());
    let _ = w.start(d2);
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
    assert_eq!(w.ask(d1, XsdSockmsgType::Watch, 0, &[b"x", b"t"]), ok());
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
    // The budget's worth of ~2 KiB paths (absolute: the home is prefixed).
    let record = RECORD_COST + "/local/domain/1/".len() + 2003;
    assert_eq!(reads, MAX_TRANSACTION_BYTES / record, "{reads} reads");
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

/// SET_PERMS is held to the byte quota like any other growth (each entry
/// is charged), and a domU may give one node at most five entries (C
/// xenstored's default); dom0 is not limited.
#[test]
fn set_perms_is_held_to_the_byte_quota_and_to_five_entries_a_node() {
    let mut w = world_with(Quotas {
        bytes: 200,
        ..Quotas::default()
    });
    let d1 = w.d1;
    // The home (15 + 4) and "/local/domain/1/a" (17 + 150 + 4): 190.
    assert_eq!(w.write(d1, 0, "a", &[b'v'; 150]), ok());
    let four: [&[u8]; 5] = [b"a", b"n1", b"r2", b"r3", b"r4"];
    assert_eq!(
        w.ask(d1, XsdSockmsgType::SetPerms, 0, &four),
        error("ENOSPC"),
        "202 bytes"
    );
    assert_eq!(w.xs.tree().bytes_owned_by(1), 190, "nothing changed");
    assert_eq!(w.ask(d1, XsdSockmsgType::SetPerms, 0, &[b"a", b"n1", b"r2"]), ok());
    assert_eq!(w.xs.tree().bytes_owned_by(1), 194);
    // In a transaction, the same.
    let tx = w.start(d1);
    assert_eq!(w.ask(d1, XsdSockmsgType::SetPerms, tx, &four), error("ENOSPC"));
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionEnd, tx, &[b"F"]), ok());

    let mut w = world();
    let (d1, dom0) = (w.d1, w.dom0);
    assert_eq!(w.write(d1, 0, "b", b""), ok());
    let five: [&[u8]; 6] = [b"b", b"n1", b"r2", b"r3", b"r4", b"r5"];
    let six: [&[u8]; 7] = [b"b", b"n1", b"r2", b"r3", b"r4", b"r5", b"r6"];
    assert_eq!(w.ask(d1, XsdSockmsgType::SetPerms, 0, &six), error("ENOSPC"));
    let tx = w.start(d1);
    assert_eq!(w.ask(d1, XsdSockmsgType::SetPerms, tx, &six), error("ENOSPC"));
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionEnd, tx, &[b"F"]), ok());
    assert_eq!(w.ask(d1, XsdSockmsgType::SetPerms, 0, &five), ok());
    let mut as_dom0 = six;
    as_dom0[0] = b"/local/domain/1/b";
    assert_eq!(w.ask(dom0, XsdSockmsgType::SetPerms, 0, &as_dom0), ok(), "dom0 may");
}

/// A domU may hold ten transactions at once (C xenstored's default: real
/// guests open several), the eleventh is ENOSPC, and one domU's ten do not
/// keep another from opening its own.
#[test]
fn a_domu_may_hold_ten_transactions_and_others_still_get_theirs() {
    let mut w = world();
    let (d1, d2) = (w.d1, w.d2);
    let mine: std::vec::Vec<u32> = (0..10).map(|_| w.start(d1)).collect();
    assert_eq!(w.ask(d1, XsdSockmsgType::TransactionStart, 0, &[b""]), error("ENOSPC"));
    for _ in 0..10 {
        w.start(d2);
    }
    for (index, tx) in mine.into_iter().enumerate() {
        assert_eq!(w.write(d1, tx, &format!("t{index}"), b"x"), ok());
        assert_eq!(w.ask(d1, XsdSockmsgType::TransactionEnd, tx, &[b"T"]), ok());
    }
    let _ = w.start(d1);
}
