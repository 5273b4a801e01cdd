//! What a transaction costs dom0's heap, measured by the allocator: what
//! it touches, not the size of the store. One test in this binary, so that
//! nothing else allocates while it measures.

use cap::Cap;
use dom0_tools::xenstore::xenstored::{Quotas, Xenstored};
use std::alloc::System;
use xen_abi::xs_wire::XsdSockmsgType;

#[global_allocator]
static HEAP: Cap<System> = Cap::new(System, usize::MAX);

/// d1 starts a transaction over a store holding 2 MiB of dom0's data, reads
/// and writes a node in it, and commits: the open transaction holds a few
/// KiB (it held a copy of the store, 2.3 MB), and its write is seen after
/// the commit.
#[test]
fn a_transaction_costs_what_it_touches_not_the_store() {
    let mut xs = Xenstored::new(Quotas::default());
    let dom0 = xs.connect(0, true);
    for index in 0..1024 {
        let path = format!("/tool/data/{index}");
        xs.request(dom0, XsdSockmsgType::Write, &[path.as_bytes(), &[b'v'; 2048]])
            .unwrap();
    }
    xs.request(dom0, XsdSockmsgType::Mkdir, &[b"/local/domain/1"]).unwrap();
    xs.request(dom0, XsdSockmsgType::SetPerms, &[b"/local/domain/1", b"n1"])
        .unwrap();
    let d1 = xs.connect(1, false);
    xs.request(d1, XsdSockmsgType::Write, &[b"greeting", b"hello"]).unwrap();
    let before = HEAP.allocated();
    let start = xs.request(d1, XsdSockmsgType::TransactionStart, &[b""]).unwrap();
    let tx: u32 = std::str::from_utf8(&start.payload[..start.payload.len() - 1])
        .unwrap()
        .parse()
        .unwrap();
    let open = HEAP.allocated() - before;
    let read = xs.request_in(d1, tx, XsdSockmsgType::Read, &[b"greeting"]).unwrap();
    assert_eq!(read.payload, b"hello");
    let write = xs
        .request_in(d1, tx, XsdSockmsgType::Write, &[b"copy", b"hello"])
        .unwrap();
    assert_eq!(write.payload, b"OK\0");
    let used = HEAP.allocated() - before;
    // The transaction's record and its connection's map of them.
    assert!(open < 4096, "an empty transaction holds {open} bytes");
    assert!(used < 8192, "a transaction of two nodes holds {used} bytes");
    let end = xs.request_in(d1, tx, XsdSockmsgType::TransactionEnd, &[b"T"]).unwrap();
    assert_eq!(end.payload, b"OK\0");
    let read = xs.request(d1, XsdSockmsgType::Read, &[b"copy"]).unwrap();
    assert_eq!(read.payload, b"hello");
}
