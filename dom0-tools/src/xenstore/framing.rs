//! Messages from a byte stream: a xenstore ring delivers bytes in pieces
//! of any size, so requests are reassembled here, and replies leave in
//! pieces as the ring has room.

use super::wire::{HEADER_SIZE, Message, parse_header};
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use xen_abi::xs_wire::XENSTORE_PAYLOAD_MAX;

/// The stream is broken: a header announced more than [`XENSTORE_PAYLOAD_MAX`]
/// bytes. Nothing after it can be trusted; the connection must close
/// (Xen sets the ring's error field to "protocol").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong(pub u32);

/// Reassembles messages.
#[derive(Debug, Default)]
pub struct MessageReader {
    pending: Vec<u8>,
}

impl MessageReader {
    /// Adds bytes read from the ring.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// Bytes buffered and not yet part of a whole message.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// The next whole message, if one has arrived.
    pub fn next_message(&mut self) -> Result<Option<Message>, TooLong> {
        let Some(header) = parse_header(&self.pending) else {
            return Ok(None);
        };
        let len = header.len as usize;
        if len > XENSTORE_PAYLOAD_MAX {
            return Err(TooLong(header.len));
        }
        if self.pending.len() < HEADER_SIZE + len {
            return Ok(None);
        }
        let payload = self.pending[HEADER_SIZE..HEADER_SIZE + len].to_vec();
        self.pending.drain(..HEADER_SIZE + len);
        Ok(Some(Message { header, payload }))
    }
}

/// Bytes waiting for room on the ring.
#[derive(Debug, Default)]
pub struct MessageWriter {
    pending: VecDeque<u8>,
}

impl MessageWriter {
    /// Queues `message`.
    pub fn push(&mut self, message: &Message) {
        self.pending.extend(message.to_bytes());
    }

    /// Whether everything has been written.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Writes as much as `write` takes (it returns how many of the offered
    /// bytes it took, perhaps none); how many went.
    pub fn drain_into(&mut self, mut write: impl FnMut(&[u8]) -> usize) -> usize {
        let mut total = 0;
        while !self.pending.is_empty() {
            let (front, _) = self.pending.as_slices();
            let taken = write(front).min(front.len());
            if taken == 0 {
                break;
            }
            self.pending.drain(..taken);
            total += taken;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xenstore::wire::header_bytes;
    use xen_abi::xs_wire::XsdSockmsgType;

    fn message(req_id: u32, payload: &[u8]) -> Message {
        Message::request(XsdSockmsgType::Read, req_id, payload.to_vec())
    }

    #[test]
    fn messages_split_anywhere_come_out_whole_and_in_order() {
        let mut stream = Vec::new();
        for (id, payload) in [(1, &b"a\0"[..]), (2, b""), (3, &[7u8; 300])] {
            stream.extend(message(id, payload).to_bytes());
        }
        for piece in [1, 3, 16, 17, 100, stream.len()] {
            let mut reader = MessageReader::default();
            let mut got = Vec::new();
            for chunk in stream.chunks(piece) {
                reader.push(chunk);
                while let Some(message) = reader.next_message().unwrap() {
                    got.push(message);
                }
            }
            assert_eq!(
                got.iter().map(|m| m.header.req_id).collect::<Vec<_>>(),
                [1, 2, 3],
                "pieces of {piece}"
            );
            assert_eq!(got[2].payload, [7u8; 300]);
            assert_eq!(reader.buffered(), 0);
        }
    }

    #[test]
    fn an_oversized_length_breaks_the_stream() {
        let mut reader = MessageReader::default();
        let mut header = message(1, b"").header;
        header.len = 4097;
        reader.push(&header_bytes(&header));
        assert_eq!(reader.next_message(), Err(TooLong(4097)));
    }

    #[test]
    fn the_writer_gives_out_what_the_ring_takes() {
        let mut writer = MessageWriter::default();
        writer.push(&message(9, b"hello\0"));
        let mut ring = Vec::new();
        // Room for 5 bytes at a time, then none.
        let mut budget = 15;
        let sent = writer.drain_into(|bytes| {
            let take = bytes.len().min(5).min(budget);
            budget -= take;
            ring.extend_from_slice(&bytes[..take]);
            take
        });
        assert_eq!(sent, 15);
        assert!(!writer.is_empty());
        writer.drain_into(|bytes| {
            ring.extend_from_slice(bytes);
            bytes.len()
        });
        assert!(writer.is_empty());
        let mut reader = MessageReader::default();
        reader.push(&ring);
        assert_eq!(reader.next_message().unwrap().unwrap().payload, b"hello\0");
    }
}
