//! The xenstore client of a domU (`io/xs_wire.h`): requests on the
//! ring start_info names, answered by xenstored in dom0.
//!
//! [`start`] maps the ring and handles its port (events must be started:
//! [`crate::upcall::start`]). Each call sends one request and sleeps until
//! its reply; watch events that arrive meanwhile are kept (a few, the
//! oldest dropped past that) for [`wait_for_watch`]. One request at a time.

use crate::XenError;
use crate::shared_area::{self, AreaPage};
use crate::start_info::StartInfo;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use heapless::{Deque, Vec};
use rings::byte_ring::{ByteConsumer, ByteProducer, XENSTORE_REQUESTS, XENSTORE_RESPONSES};
use spin::Mutex;
use xen_abi::xs_wire::{XENSTORE_PAYLOAD_MAX, XsdSockmsg, XsdSockmsgType};

/// Header bytes before a message's payload.
const HEADER: usize = size_of::<XsdSockmsg>();
/// How long to wait for a reply.
const PATIENCE_NS: u64 = 10_000_000_000;

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XsError {
    /// The hypervisor refused something (mapping, events).
    Xen(XenError),
    /// xenstored answered with this error name (`ENOENT`, `EACCES`...).
    Error(Vec<u8, 16>),
    /// No reply in time, or the ring broke.
    NoReply,
    /// The reply did not fit the caller's buffer.
    TooLong,
    /// [`start`] has not run (or there is no ring: dom0).
    NotStarted,
}

impl XsError {
    /// Whether xenstored answered with error `name`.
    pub fn is(&self, name: &str) -> bool {
        matches!(self, XsError::Error(error) if error.as_slice() == name.as_bytes())
    }
}

impl From<XenError> for XsError {
    fn from(error: XenError) -> Self {
        XsError::Xen(error)
    }
}

impl fmt::Display for XsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XsError::Xen(error) => write!(f, "{error}"),
            XsError::Error(name) => write!(f, "xenstore: {}", core::str::from_utf8(name).unwrap_or("?")),
            XsError::NoReply => write!(f, "xenstore: no reply"),
            XsError::TooLong => write!(f, "xenstore: reply too long for the buffer"),
            XsError::NotStarted => write!(f, "xenstore: not started"),
        }
    }
}

/// The ring's port; 0 until started.
static PORT: AtomicU32 = AtomicU32::new(0);
/// Set by the port's handler.
static SIGNALLED: AtomicBool = AtomicBool::new(false);
/// The next request id.
static REQ_ID: AtomicU32 = AtomicU32::new(1);

/// A watch event: the path (as the watch was given) and the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchEvent {
    /// The path that changed.
    pub path: Vec<u8, 256>,
    /// The watch's token.
    pub token: Vec<u8, 64>,
}

/// Client state: bytes of a reply being reassembled, and watch events kept.
struct Client {
    incoming: Vec<u8, { HEADER + XENSTORE_PAYLOAD_MAX }>,
    events: Deque<WatchEvent, 8>,
}

static CLIENT: Mutex<Client> = Mutex::new(Client {
    incoming: Vec::new(),
    events: Deque::new(),
});

/// Maps the xenstore ring start_info names and handles its port.
pub fn start(info: &StartInfo) -> Result<(), XsError> {
    if crate::start_info::is_initial_domain(info) || info.store_mfn == 0 {
        return Err(XsError::NotStarted);
    }
    shared_area::map_frame(shared_area::XENSTORE_RING, info.store_mfn)?;
    crate::upcall::set_handler(info.store_evtchn, |_| SIGNALLED.store(true, Ordering::SeqCst))?;
    PORT.store(info.store_evtchn, Ordering::Release);
    Ok(())
}

/// Reads `path` into `out`; the value's length.
pub fn read(path: &str, out: &mut [u8]) -> Result<usize, XsError> {
    request(XsdSockmsgType::Read, 0, &[path.as_bytes()], None, out)
}

/// The children of `path`, NUL-separated, into `out`; the bytes used.
pub fn directory(path: &str, out: &mut [u8]) -> Result<usize, XsError> {
    request(XsdSockmsgType::Directory, 0, &[path.as_bytes()], None, out)
}

/// Writes `value` at `path` (creating it and its parents).
pub fn write(path: &str, value: &[u8]) -> Result<(), XsError> {
    write_in(0, path, value)
}

/// Writes in transaction `tx`.
pub fn write_in(tx: u32, path: &str, value: &[u8]) -> Result<(), XsError> {
    request(XsdSockmsgType::Write, tx, &[path.as_bytes()], Some(value), &mut [0; 4]).map(drop)
}

/// Reads in transaction `tx`.
pub fn read_in(tx: u32, path: &str, out: &mut [u8]) -> Result<usize, XsError> {
    request(XsdSockmsgType::Read, tx, &[path.as_bytes()], None, out)
}

/// Removes `path` and everything below it.
pub fn rm(path: &str) -> Result<(), XsError> {
    request(XsdSockmsgType::Rm, 0, &[path.as_bytes()], None, &mut [0; 4]).map(drop)
}

/// Watches `path`; events carry `token`. The first event comes at once.
pub fn watch(path: &str, token: &str) -> Result<(), XsError> {
    request(
        XsdSockmsgType::Watch,
        0,
        &[path.as_bytes(), token.as_bytes()],
        None,
        &mut [0; 4],
    )
    .map(drop)
}

/// Stops watching `path` with `token`.
pub fn unwatch(path: &str, token: &str) -> Result<(), XsError> {
    request(
        XsdSockmsgType::Unwatch,
        0,
        &[path.as_bytes(), token.as_bytes()],
        None,
        &mut [0; 4],
    )
    .map(drop)
}

/// Starts a transaction; its id.
pub fn transaction_start() -> Result<u32, XsError> {
    let mut id = [0u8; 16];
    let length = request(XsdSockmsgType::TransactionStart, 0, &[b""], None, &mut id)?;
    let text = core::str::from_utf8(&id[..length.saturating_sub(1)]).map_err(|_| XsError::NoReply)?;
    text.parse().map_err(|_| XsError::NoReply)
}

/// Ends transaction `tx`, committing it if `commit`; an error named
/// `EAGAIN` means another change came first: start again.
pub fn transaction_end(tx: u32, commit: bool) -> Result<(), XsError> {
    let verdict: &[u8] = if commit { b"T" } else { b"F" };
    request(XsdSockmsgType::TransactionEnd, tx, &[verdict], None, &mut [0; 4]).map(drop)
}

/// Sleeps until a watch event comes (or system time `deadline`); the event.
pub fn wait_for_watch(deadline: u64) -> Result<Option<WatchEvent>, XsError> {
    loop {
        if let Some(event) = CLIENT.lock().events.pop_front() {
            return Ok(Some(event));
        }
        pump(None, &mut [])?;
        if let Some(event) = CLIENT.lock().events.pop_front() {
            return Ok(Some(event));
        }
        if !crate::sched::wait_until(deadline, || SIGNALLED.swap(false, Ordering::SeqCst))? {
            return Ok(None);
        }
    }
}

/// Sends one request and waits for its reply, copying the payload into
/// `out`; its length.
fn request(
    kind: XsdSockmsgType,
    tx: u32,
    fields: &[&[u8]],
    value: Option<&[u8]>,
    out: &mut [u8],
) -> Result<usize, XsError> {
    let port = PORT.load(Ordering::Acquire);
    if port == 0 {
        return Err(XsError::NotStarted);
    }
    let mut payload: Vec<u8, XENSTORE_PAYLOAD_MAX> = Vec::new();
    for field in fields {
        payload.extend_from_slice(field).map_err(|_| XsError::TooLong)?;
        payload.push(0).map_err(|_| XsError::TooLong)?;
    }
    if let Some(value) = value {
        payload.extend_from_slice(value).map_err(|_| XsError::TooLong)?;
    }
    let req_id = REQ_ID.fetch_add(1, Ordering::Relaxed);
    let mut message: Vec<u8, { HEADER + XENSTORE_PAYLOAD_MAX }> = Vec::new();
    for word in [kind as u32, req_id, tx, payload.len() as u32] {
        let _ = message.extend_from_slice(&word.to_le_bytes());
    }
    let _ = message.extend_from_slice(&payload);
    send_bytes(port, &message)?;
    let deadline = crate::time::now() + PATIENCE_NS;
    loop {
        if let Some(length) = pump(Some(req_id), out)? {
            return Ok(length);
        }
        if !crate::sched::wait_until(deadline, || SIGNALLED.swap(false, Ordering::SeqCst))? {
            return Err(XsError::NoReply);
        }
    }
}

/// Puts `bytes` on the request ring, waiting for room as needed.
fn send_bytes(port: u32, mut bytes: &[u8]) -> Result<(), XsError> {
    let page = AreaPage::new(shared_area::XENSTORE_RING);
    let deadline = crate::time::now() + PATIENCE_NS;
    while !bytes.is_empty() {
        let mut producer = ByteProducer::attach(&page, XENSTORE_REQUESTS).map_err(|_| XsError::NoReply)?;
        let written = producer.write(bytes).map_err(|_| XsError::NoReply)?;
        bytes = &bytes[written..];
        crate::event_channel::send(port)?;
        if !bytes.is_empty() && !crate::sched::wait_until(deadline, || SIGNALLED.swap(false, Ordering::SeqCst))? {
            return Err(XsError::NoReply);
        }
    }
    Ok(())
}

/// Reads what the response ring holds; returns the payload length of the
/// reply to `req_id` once it is whole (copied into `out`), keeping watch
/// events and dropping stray replies.
fn pump(req_id: Option<u32>, out: &mut [u8]) -> Result<Option<usize>, XsError> {
    let page = AreaPage::new(shared_area::XENSTORE_RING);
    let mut client = CLIENT.lock();
    let mut consumer = ByteConsumer::attach(&page, XENSTORE_RESPONSES).map_err(|_| XsError::NoReply)?;
    loop {
        let room = client.incoming.capacity() - client.incoming.len();
        let mut chunk = [0u8; 512];
        let want = room.min(chunk.len());
        let got = consumer.read(&mut chunk[..want]).map_err(|_| XsError::NoReply)?;
        let _ = client.incoming.extend_from_slice(&chunk[..got]);
        let notify = got > 0;
        // Whole messages at the front.
        while client.incoming.len() >= HEADER {
            let word = |i: usize| u32::from_le_bytes(client.incoming[i * 4..i * 4 + 4].try_into().unwrap_or([0; 4]));
            let (kind, id, length) = (word(0), word(1), word(3) as usize);
            if length > XENSTORE_PAYLOAD_MAX {
                // A broken stream: drop what is buffered rather than fail
                // on the same header for every request to come.
                client.incoming.clear();
                return Err(XsError::NoReply);
            }
            if client.incoming.len() < HEADER + length {
                break;
            }
            let payload_range = HEADER..HEADER + length;
            let mut answer = None;
            if kind == XsdSockmsgType::WatchEvent as u32 {
                let event = parse_event(&client.incoming[payload_range.clone()]);
                if client.events.is_full() {
                    client.events.pop_front();
                }
                let _ = client.events.push_back(event);
            } else if Some(id) == req_id {
                answer = Some(if kind == XsdSockmsgType::Error as u32 {
                    let name = &client.incoming[payload_range.clone()];
                    let name = name.strip_suffix(&[0]).unwrap_or(name);
                    Err(XsError::Error(
                        Vec::from_slice(&name[..name.len().min(16)]).unwrap_or_default(),
                    ))
                } else if length > out.len() {
                    Err(XsError::TooLong)
                } else {
                    out[..length].copy_from_slice(&client.incoming[payload_range.clone()]);
                    Ok(length)
                });
            }
            let consumed = HEADER + length;
            let rest = client.incoming.len() - consumed;
            client.incoming.copy_within(consumed.., 0);
            client.incoming.truncate(rest);
            if let Some(answer) = answer {
                if notify {
                    let _ = crate::event_channel::send(PORT.load(Ordering::Acquire));
                }
                return answer.map(Some);
            }
        }
        if got == 0 {
            return Ok(None);
        }
        let _ = crate::event_channel::send(PORT.load(Ordering::Acquire));
    }
}

/// A WATCH_EVENT payload: `path\0token\0`.
fn parse_event(payload: &[u8]) -> WatchEvent {
    let mut parts = payload.split(|&byte| byte == 0);
    let path = parts.next().unwrap_or(&[]);
    let token = parts.next().unwrap_or(&[]);
    WatchEvent {
        path: Vec::from_slice(&path[..path.len().min(256)]).unwrap_or_default(),
        token: Vec::from_slice(&token[..token.len().min(64)]).unwrap_or_default(),
    }
}
