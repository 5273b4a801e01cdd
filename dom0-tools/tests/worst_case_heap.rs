//! Every domU at every xenstored limit at once, measured by the allocator:
//! the worst a domU can make dom0's xenstored hold fits dom0's heap. One
//! test in this binary, so that nothing else allocates while it measures.

use cap::Cap;
use dom0_tools::xenstore::watches::ConnId;
use dom0_tools::xenstore::wire::Message;
use dom0_tools::xenstore::xenstored::{Quotas, Xenstored};
use std::alloc::System;
use xen_abi::xs_wire::XsdSockmsgType;

#[global_allocator]
static HEAP: Cap<System> = Cap::new(System, usize::MAX);

/// dom0's heap (guest-sdk's `heap` feature).
const DOM0_HEAP: usize = 8 << 20;
/// What xenstored may take of it: the rest is dom0's own (its services,
/// the ring buffers, the allocator's fragmentation).
const XENSTORED_SHARE: usize = 6 << 20;

fn ok(reply: Option<Message>) -> bool {
    reply.is_some_and(|reply| reply.header.kind != XsdSockmsgType::Error as u32)
}

/// Fills everything domain `domid` may make xenstored hold.
fn fill(xs: &mut Xenstored, dom0: ConnId, domid: u16) -> ConnId {
    let home = format!("/local/domain/{domid}");
    xs.request(dom0, XsdSockmsgType::Mkdir, &[home.as_bytes()]).unwrap();
    xs.request(
        dom0,
        XsdSockmsgType::SetPerms,
        &[home.as_bytes(), format!("n{domid}").as_bytes()],
    )
    .unwrap();
    let conn = xs.connect(domid, false);
    let quotas = *xs.quotas();
    // Its bytes in 2 KiB values, then its nodes.
    let big = vec![b'v'; quotas.value_size];
    let mut index = 0;
    while ok(xs.request(conn, XsdSockmsgType::Write, &[format!("big{index}").as_bytes(), &big])) {
        index += 1;
    }
    while ok(xs.request(conn, XsdSockmsgType::Write, &[format!("n{index}").as_bytes(), b""])) {
        index += 1;
    }
    // Its watches, on long paths with long tokens.
    let token = "t".repeat(quotas.token_size);
    for watch in 0..quotas.watches {
        let path = format!("{watch}{}", "w".repeat(1900));
        let token = format!("{watch}{token}");
        assert!(ok(xs.request(
            conn,
            XsdSockmsgType::Watch,
            &[path.as_bytes(), &token.as_bytes()[..quotas.token_size]]
        )));
    }
    // Its transactions, each full of records of long paths.
    for _ in 0..quotas.transactions {
        let start = xs.request(conn, XsdSockmsgType::TransactionStart, &[b""]).unwrap();
        assert_eq!(
            start.header.kind,
            XsdSockmsgType::TransactionStart as u32,
            "{:?}",
            start.payload
        );
        let tx: u32 = std::str::from_utf8(&start.payload[..start.payload.len() - 1])
            .unwrap()
            .parse()
            .unwrap();
        let mut read = 0;
        loop {
            let path = format!("{read}{}", "r".repeat(1000));
            let reply = xs
                .request_in(conn, tx, XsdSockmsgType::Read, &[path.as_bytes()])
                .unwrap();
            if reply.payload == b"ENOSPC\0" {
                break;
            }
            read += 1;
        }
    }
    // Its output, to the quota: reads of a 2 KiB value it never takes.
    let mut id = 0;
    while xs.accepts_requests(conn) {
        let mut payload = b"big0".to_vec();
        payload.push(0);
        xs.handle(conn, &Message::request(XsdSockmsgType::Read, id, payload));
        id += 1;
    }
    conn
}

/// Seven domUs (all xen-core runs beside dom0), each at every limit:
/// nodes and bytes, watches, ten transactions full, output queued to the
/// quota. Each can still open its ten transactions (none is crowded out),
/// and xenstored holds less than its share of dom0's heap.
#[test]
fn seven_domus_at_every_limit_fit_dom0s_heap() {
    let before = HEAP.allocated();
    let mut xs = Xenstored::new(Quotas::default());
    let dom0 = xs.connect(0, true);
    assert_eq!(xs.quotas().transactions, 10, "C xenstored's default");
    for domid in 1..=7 {
        fill(&mut xs, dom0, domid);
    }
    let held = HEAP.allocated() - before;
    println!("xenstored holds {held} bytes with seven domUs at every limit");
    const { assert!(XENSTORED_SHARE < DOM0_HEAP) };
    assert!(held < XENSTORED_SHARE, "{held} bytes");
}
