//! The ring server against a domU that floods it with requests and does
//! not read the replies, next to a domU that behaves.

extern crate std;

use super::framing::MessageReader;
use super::outbox::LARGEST_REPLY;
use super::ring_server::{CHUNK, CorruptRing, RingServer, StoreRingIo, WRITER_LIMIT};
use super::watches::ConnId;
use super::wire::Message;
use super::xenstored::{Quotas, Xenstored};
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use std::format;
use xen_abi::xs_wire::XsdSockmsgType;

/// Bytes each way on a xenstore page.
const RING: usize = 1024;

/// A xenstore page: the domU's end is the test's, the server's end the
/// [`StoreRingIo`].
#[derive(Default)]
struct FakeRing {
    requests: VecDeque<u8>,
    responses: VecDeque<u8>,
}

impl StoreRingIo for FakeRing {
    fn read_requests(&mut self, buffer: &mut [u8]) -> Result<usize, CorruptRing> {
        let count = buffer.len().min(self.requests.len());
        for (slot, byte) in buffer.iter_mut().zip(self.requests.drain(..count)) {
            *slot = byte;
        }
        Ok(count)
    }

    fn write_responses(&mut self, bytes: &[u8]) -> Result<usize, CorruptRing> {
        let count = bytes.len().min(RING - self.responses.len());
        self.responses.extend(&bytes[..count]);
        Ok(count)
    }
}

impl FakeRing {
    /// The domU puts `request` on the ring if it fits whole.
    fn send(&mut self, request: &Message) -> bool {
        let bytes = request.to_bytes();
        let fits = self.requests.len() + bytes.len() <= RING;
        if fits {
            self.requests.extend(bytes);
        }
        fits
    }

    /// The domU takes up to `count` response bytes.
    fn take(&mut self, count: usize) -> Vec<u8> {
        let count = count.min(self.responses.len());
        self.responses.drain(..count).collect()
    }
}

fn read_request(req_id: u32, path: &str) -> Message {
    let mut payload = Vec::from(path.as_bytes());
    payload.push(0);
    Message::request(XsdSockmsgType::Read, req_id, payload)
}

/// xenstored with dom0 and domUs 1 and 2 connected, each domU's home made
/// as a toolstack does and holding a 2048-byte `big` and a 1-byte `small`.
fn store() -> (Xenstored, ConnId, ConnId) {
    let mut xs = Xenstored::new(Quotas::default());
    let dom0 = xs.connect(0, true);
    let mut conns = Vec::new();
    for domid in [1u16, 2] {
        let home = format!("/local/domain/{domid}");
        let owner = format!("n{domid}");
        xs.request(dom0, XsdSockmsgType::Mkdir, &[home.as_bytes()]).unwrap();
        xs.request(dom0, XsdSockmsgType::SetPerms, &[home.as_bytes(), owner.as_bytes()])
            .unwrap();
        let conn = xs.connect(domid, false);
        let reply = xs
            .request(conn, XsdSockmsgType::Write, &[b"big", &[b'v'; 2048]])
            .unwrap();
        assert_eq!(reply.payload, b"OK\0");
        xs.request(conn, XsdSockmsgType::Write, &[b"small", b"s"]).unwrap();
        conns.push(conn);
    }
    (xs, conns[0], conns[1])
}

/// d1 keeps its request ring full of small READs of its 2048-byte node and
/// takes a trickle of its replies (64 bytes a pass); d2 makes one round trip
/// each pass. d1's output stays within the quota, its requests wait in its
/// ring, and d2 is answered every pass. When d1 reads again, every request
/// it sent is answered, in order.
#[test]
fn a_domu_that_does_not_read_its_replies_is_held_to_its_output_quota() {
    let (mut xs, d1, d2) = store();
    let quota = xs.quotas().queued_bytes;
    let (mut flood, mut flood_ring) = (RingServer::new(d1), FakeRing::default());
    let (mut polite, mut polite_ring) = (RingServer::new(d2), FakeRing::default());
    let (mut sent, mut answered) = (0u32, 0u32);
    let mut flood_reader = MessageReader::default();
    let mut answers = |reader: &mut MessageReader, bytes: Vec<u8>| {
        reader.push(&bytes);
        while let Some(reply) = reader.next_message().unwrap() {
            assert_eq!((reply.header.req_id, reply.payload.len()), (answered, 2048));
            answered += 1;
        }
        answered
    };
    let mut most_buffered = 0;
    for round in 0..300u32 {
        while flood_ring.send(&read_request(sent, "big")) {
            sent += 1;
        }
        answers(&mut flood_reader, flood_ring.take(64));
        assert!(polite_ring.send(&read_request(round, "small")));
        flood.serve(&mut xs, &mut flood_ring).unwrap();
        polite.serve(&mut xs, &mut polite_ring).unwrap();
        most_buffered = most_buffered.max(flood.buffered());
        let mut reader = MessageReader::default();
        reader.push(&polite_ring.take(usize::MAX));
        let reply = reader.next_message().unwrap().expect("d2 is answered in the same pass");
        assert_eq!((reply.header.req_id, reply.payload.len()), (round, 1));
    }
    let peak = xs.peak_queued(d1);
    assert!(peak <= quota, "d1's output peaked at {peak} bytes, over its {quota}");
    assert!(
        most_buffered <= CHUNK + WRITER_LIMIT + LARGEST_REPLY,
        "{most_buffered} bytes buffered by the server"
    );
    assert!(flood_ring.requests.len() > RING - 32, "d1's requests wait in its ring");
    // d1 reads again: everything it sent is answered, in order.
    let mut total = 0;
    for _ in 0..10_000 {
        flood.serve(&mut xs, &mut flood_ring).unwrap();
        total = answers(&mut flood_reader, flood_ring.take(usize::MAX));
        if total == sent {
            break;
        }
    }
    assert_eq!(total, sent, "every request is answered once d1 reads");
}
