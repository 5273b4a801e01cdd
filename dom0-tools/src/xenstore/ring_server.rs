//! The server's end of one domain's xenstore ring: request bytes in,
//! messages to xenstored, its replies back out as the ring has room.
//!
//! The domU controls the ring, so everything it can make dom0 hold is
//! bounded: at most [`CHUNK`] request bytes are taken per pass (a domU
//! refilling its ring as fast as dom0 drains it gets its turn, not all of
//! dom0), none while xenstored will not take the connection's requests
//! ([`Xenstored::accepts_requests`]: its replies are backed up), and at
//! most [`WRITER_LIMIT`] bytes of replies wait here for the ring.

use super::framing::{MessageReader, MessageWriter};
use super::watches::ConnId;
use super::wire::HEADER_SIZE;
use super::xenstored::Xenstored;
use xen_abi::xs_wire::{XENSTORE_PAYLOAD_MAX, XENSTORE_RING_SIZE};

/// Request bytes taken from the ring in one pass: a whole ring's worth.
pub const CHUNK: usize = XENSTORE_RING_SIZE;
/// Reply bytes waiting for room on the ring beyond which no more replies
/// are taken from xenstored (they wait there, within its quota).
pub const WRITER_LIMIT: usize = 4096;

/// The ring's indexes are not what the protocol allows: nothing on it can
/// be trusted any more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CorruptRing;

/// The two byte rings of a xenstore page, from the server's side.
pub trait StoreRingIo {
    /// Takes request bytes into `buffer`; how many (0: none waiting).
    fn read_requests(&mut self, buffer: &mut [u8]) -> Result<usize, CorruptRing>;
    /// Puts response bytes on the ring; how many it took (0: full).
    fn write_responses(&mut self, bytes: &[u8]) -> Result<usize, CorruptRing>;
}

/// How a domU broke its ring; its connection must close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broken {
    /// A request index the protocol does not allow.
    RequestIndex,
    /// A header announcing more than the protocol's payload.
    TooLong,
    /// A response index the protocol does not allow.
    ResponseIndex,
}

impl Broken {
    /// Why, for dom0's log.
    pub fn why(self) -> &'static str {
        match self {
            Broken::RequestIndex => "a bad request index",
            Broken::TooLong => "a message longer than 4096 bytes",
            Broken::ResponseIndex => "a bad response index",
        }
    }
}

/// One domain's connection as served over its ring.
#[derive(Debug)]
pub struct RingServer {
    conn: ConnId,
    reader: MessageReader,
    writer: MessageWriter,
}

impl RingServer {
    /// Serves connection `conn` of xenstored.
    pub fn new(conn: ConnId) -> Self {
        RingServer {
            conn,
            reader: MessageReader::default(),
            writer: MessageWriter::default(),
        }
    }

    /// The xenstored connection.
    pub fn conn(&self) -> ConnId {
        self.conn
    }

    /// Bytes held here for the domU: partial requests and unsent replies.
    pub fn buffered(&self) -> usize {
        self.reader.buffered() + self.writer.len()
    }

    /// One pass: replies out, then requests in (within the bounds above)
    /// and answered, then their replies out. `Ok(true)` if requests may be
    /// left that a later pass must take even without a new signal (more
    /// than [`CHUNK`] was waiting, or the connection was held back in this
    /// pass and may be read again now).
    pub fn serve(&mut self, xs: &mut Xenstored, ring: &mut impl StoreRingIo) -> Result<bool, Broken> {
        self.flush(xs, ring)?;
        let mut held_back = false;
        let mut got = 0;
        if !xs.accepts_requests(self.conn) || self.writer.len() >= WRITER_LIMIT {
            // Its requests stay in its ring until its replies drain.
            held_back = true;
        } else if self.reader.buffered() < HEADER_SIZE + XENSTORE_PAYLOAD_MAX {
            let mut buffer = [0u8; CHUNK];
            got = ring.read_requests(&mut buffer).map_err(|_| Broken::RequestIndex)?;
            self.reader.push(&buffer[..got]);
        }
        // One at a time: a chunk of tiny requests may fill the outbox.
        while xs.accepts_requests(self.conn) {
            match self.reader.next_message() {
                Ok(Some(message)) => xs.handle(self.conn, &message),
                Ok(None) => break,
                Err(_) => return Err(Broken::TooLong),
            }
        }
        held_back |= self.reader.buffered() > 0 && !xs.accepts_requests(self.conn);
        self.flush(xs, ring)?;
        Ok((got == CHUNK || held_back) && xs.accepts_requests(self.conn))
    }

    /// Moves replies from xenstored to the ring, as far as both allow.
    fn flush(&mut self, xs: &mut Xenstored, ring: &mut impl StoreRingIo) -> Result<(), Broken> {
        loop {
            while self.writer.len() < WRITER_LIMIT {
                let Some(reply) = xs.take_output(self.conn) else {
                    break;
                };
                self.writer.push(&reply);
            }
            let mut corrupt = false;
            let sent = self.writer.drain_into(|bytes| {
                ring.write_responses(bytes).unwrap_or_else(|_| {
                    corrupt = true;
                    0
                })
            });
            if corrupt {
                return Err(Broken::ResponseIndex);
            }
            if sent == 0 || !xs.has_output(self.conn) {
                return Ok(());
            }
        }
    }
}
