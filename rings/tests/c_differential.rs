//! Differential test: our rings against a peer built from Xen's own `io/ring.h`.
//!
//! `tests/c/ring_peer.c` drives a ring with the real macros (`SHARED_RING_INIT`,
//! `RING_PUSH_*_AND_CHECK_NOTIFY`, `RING_FINAL_CHECK_FOR_*`, ...). It runs as a
//! separate process, mapping the same two-page file as this test: page 0 is
//! the ring, page 1 holds two doorbells standing in for event channels and the
//! front end's "initialised" flag. A side with nothing to do waits for its
//! doorbell, and a side rings its peer's doorbell exactly when the notify
//! check says so; a wake-up lost by either implementation therefore hangs the
//! exchange, which the timeout turns into a failure.
//!
//! Layouts alone (see `layout_matches_libxen.rs`) do not show that the two
//! implementations agree on the protocol: index arithmetic, event indices,
//! what a hostile index looks like. Running them against each other does.

#![deny(unsafe_code)]

mod common;
mod libxen;

use common::{Request, Response};
use memmap2::MmapOptions;
use rings::sring::{REQ_PROD, RSP_PROD, ring_size, slot_bytes};
use rings::sync::{AtomicU32, Ordering};
use rings::{BackRing, FrontRing, RingError};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Bytes of each of the two pages; the ring is one page, as `ring_peer.c` has it.
const PAGE_BYTES: usize = 4096;
/// Words in one page.
const PAGE_WORDS: usize = PAGE_BYTES / 4;
/// Control-page word the front end increments to notify the back end.
const CONTROL_BELL_TO_BACK: usize = 0;
/// Control-page word the back end increments to notify the front end.
const CONTROL_BELL_TO_FRONT: usize = 1;
/// Control-page word the front end sets to 1 once the ring is initialised.
const CONTROL_FRONT_READY: usize = 2;
/// Messages per exchange: enough to wrap the 128-slot ring many times.
const MESSAGES: u64 = 10_000;
/// How long an exchange may take before the test fails rather than hangs.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A front end over the mapped ring page.
type Front<'m> = FrontRing<'m, [AtomicU32], Request, Response>;
/// A back end over the mapped ring page.
type Back<'m> = BackRing<'m, [AtomicU32], Request, Response>;

/// The back end's answer to a request: `status_for` in `ring_peer.c`. Not an
/// echo, so a response built from the wrong request cannot pass.
fn answer(request: &Request) -> Response {
    Response {
        id: request.id as u32,
        status: request.value.wrapping_mul(3) as i32,
    }
}

/// Batch sizes 1..=32 from the same LCG as `next_batch` in `ring_peer.c`:
/// irregular enough to hit every slot boundary, and reproducible.
struct BatchSizes(u32);

impl BatchSizes {
    /// The next batch size.
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_103_515_245).wrapping_add(12345);
        1 + (self.0 >> 16) % 32
    }
}

/// What one side of an exchange did.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counters {
    /// Requests answered (back end) or responses checked (front end).
    messages: u64,
    /// Publications: request batches pushed, or response batches pushed.
    batches: u64,
    /// Publications after which the notify check said to notify the peer.
    notifications: u64,
}

impl Counters {
    /// Asserts that `messages` all got through in batches, and that
    /// notification suppression worked: at least the first publication
    /// notified (event indices start at 1), at most every publication did,
    /// and there were fewer publications than messages.
    fn assert_batched(&self, side: &str, messages: u64) {
        assert_eq!(self.messages, messages, "{side}: every message exchanged: {self:?}");
        assert!(
            self.notifications >= 1,
            "{side}: the first publication notifies: {self:?}"
        );
        assert!(
            self.notifications <= self.batches && self.batches < messages,
            "{side}: at most one notification per batch, fewer batches than messages: {self:?}"
        );
    }
}

/// Builds `ring_peer` once per test binary with the `cc` crate.
fn peer_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        libxen::require_headers(&["xen/io/ring.h"]);
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/ring_peer.c");
        let binary = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ring_peer-{}", std::process::id()));
        libxen::compile_program(&source, &binary, &[]);
        binary
    })
}

/// The two-page file both processes map; removed when dropped.
struct PageFile(PathBuf);

impl PageFile {
    /// Creates a zeroed two-page file named after `test`.
    fn create(test: &str) -> PageFile {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pages-{}-{test}", std::process::id()));
        let file = File::create(&path).expect("create the page file");
        file.set_len(2 * PAGE_BYTES as u64).expect("size the page file");
        PageFile(path)
    }

    /// Maps the file shared and runs `body` on the ring page and the control
    /// page, seen as atomic words.
    #[allow(unsafe_code)]
    fn with_pages<R>(&self, body: impl FnOnce(&[AtomicU32], &[AtomicU32]) -> R) -> R {
        let file = File::options()
            .read(true)
            .write(true)
            .open(&self.0)
            .expect("open the page file");
        // SAFETY: memmap2 asks that the file not change size while mapped: it
        // is ours, sized once at creation, and the peer only maps it. The peer
        // writes the contents concurrently, which is why the pages are never
        // seen as bytes, only through the atomics of `words_from_raw`. For that
        // function: the mapping is page-aligned and `map.len()` bytes long; it
        // lives until `map` drops at the end of this function, after `body`
        // returns, and `body`'s result cannot borrow the words; nothing in this
        // program touches the mapping except through them.
        let (map, words) = unsafe {
            let mut map = MmapOptions::new()
                .len(2 * PAGE_BYTES)
                .map_mut(&file)
                .expect("map the page file");
            let words = rings::shared_memory::words_from_raw(map.as_mut_ptr(), map.len());
            (map, words)
        };
        let (ring, control) = words.split_at(PAGE_WORDS);
        let result = body(ring, control);
        drop(map);
        result
    }
}

impl Drop for PageFile {
    fn drop(&mut self) {
        // Best effort: a leftover file in the target directory harms nothing.
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The running C peer. Dropping it kills the process, so a failing test
/// never leaves it behind.
struct Peer {
    /// The `ring_peer` process, its stdout and stderr piped to us.
    child: Child,
    /// Its role, for messages: `front`, `back` or `hostile-front`.
    role: &'static str,
    /// When waiting for it stops and the test fails.
    deadline: Instant,
}

impl Peer {
    /// Starts `ring_peer <role> <pages> <count>`.
    fn spawn(role: &'static str, pages: &PageFile, count: u64) -> Peer {
        let child = Command::new(peer_binary())
            .arg(role)
            .arg(&pages.0)
            .arg(count.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ring_peer");
        Peer {
            child,
            role,
            deadline: Instant::now() + TIMEOUT,
        }
    }

    /// Kills the peer and fails the test with `message` and the peer's stderr.
    #[track_caller]
    fn fail(&mut self, message: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        panic!("C {}: {message}\nits stderr:\n{stderr}", self.role);
    }

    /// Spins (yielding, then napping) until `ready` holds; fails the test if
    /// the peer exits first or the deadline passes.
    #[track_caller]
    fn wait_until(&mut self, what: &str, mut ready: impl FnMut() -> bool) {
        let mut spins = 0u32;
        while !ready() {
            match self.child.try_wait() {
                // It may have made us ready just before exiting.
                Ok(Some(status)) if !ready() => self.fail(&format!("exited ({status}) while we waited for {what}")),
                Ok(_) => {}
                Err(error) => self.fail(&format!("cannot poll it: {error}")),
            }
            if Instant::now() > self.deadline {
                self.fail(&format!("timed out after {TIMEOUT:?} waiting for {what}"));
            }
            spins += 1;
            if spins < 100 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
    }

    /// "Blocks on the event channel": waits until `bell` moves past `seen`.
    #[track_caller]
    fn wait_for_bell(&mut self, bell: &AtomicU32, seen: &mut u32, what: &str) {
        let before = *seen;
        self.wait_until(what, || bell.load(Ordering::Acquire) != before);
        *seen = bell.load(Ordering::Acquire);
    }

    /// Waits for a successful exit and returns the peer's report line, e.g.
    /// `front messages=10000 batches=646 notifications=79`.
    #[track_caller]
    fn finish(&mut self) -> String {
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() > self.deadline => {
                    self.fail(&format!("timed out after {TIMEOUT:?} waiting for it to exit"))
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                Err(error) => self.fail(&format!("cannot poll it: {error}")),
            }
        };
        if !status.success() {
            self.fail(&format!("exited with {status}"));
        }
        let mut stdout = String::new();
        if let Some(mut pipe) = self.child.stdout.take() {
            pipe.read_to_string(&mut stdout).expect("read its report");
        }
        stdout
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Already exited after a pass; killed here after a failure.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The counters of a report line from `ring_peer`.
fn parse_counters(report: &str) -> Counters {
    let field = |name: &str| -> u64 {
        report
            .split_whitespace()
            .find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no {name}= in the peer's report {report:?}"))
    };
    Counters {
        messages: field("messages"),
        batches: field("batches"),
        notifications: field("notifications"),
    }
}

/// Our front end: sends `count` requests in batches, checks every response in
/// order, and waits for its doorbell only when it cannot send (ring full or
/// all sent) and the final check finds nothing.
fn run_front(front: &mut Front<'_>, control: &[AtomicU32], peer: &mut Peer, count: u64) -> Counters {
    let mut counters = Counters::default();
    let mut sizes = BatchSizes(1);
    let mut sent = 0u64;
    let mut bell_seen = 0;
    while counters.messages < count {
        let batch = u64::from(sizes.next().min(front.free_requests())).min(count - sent);
        if batch > 0 {
            for _ in 0..batch {
                if let Err(error) = front.push_request(&common::request(sent)) {
                    peer.fail(&format!("request {sent} refused with free slots: {error}"));
                }
                sent += 1;
            }
            counters.batches += 1;
            if front.push_requests_and_check_notify() {
                control[CONTROL_BELL_TO_BACK].fetch_add(1, Ordering::SeqCst);
                counters.notifications += 1;
            }
        }
        loop {
            let response = match front.pop_response() {
                Ok(Some(response)) => response,
                Ok(None) => break,
                Err(error) => peer.fail(&format!("our front end rejected the ring: {error}")),
            };
            let expected = answer(&common::request(counters.messages));
            if response != expected {
                peer.fail(&format!(
                    "response {} is {response:?}, expected {expected:?}",
                    counters.messages
                ));
            }
            counters.messages += 1;
        }
        if counters.messages == count || (sent < count && !front.is_full()) {
            continue;
        }
        match front.final_check_for_responses() {
            Ok(true) => {}
            Ok(false) => peer.wait_for_bell(&control[CONTROL_BELL_TO_FRONT], &mut bell_seen, "a response"),
            Err(error) => peer.fail(&format!("our front end rejected the ring: {error}")),
        }
    }
    counters
}

/// Our back end: once the front end has initialised the ring, answers up to
/// `count` requests, checking each is the next of `common::request`, and waits
/// for its doorbell when the final check finds nothing. Stops at the first
/// ring error, which it returns.
fn run_back(
    ring: &[AtomicU32],
    control: &[AtomicU32],
    peer: &mut Peer,
    count: u64,
    counters: &mut Counters,
) -> Result<(), RingError> {
    peer.wait_until("the front end to initialise the ring", || {
        control[CONTROL_FRONT_READY].load(Ordering::Acquire) != 0
    });
    let mut back = Back::new(ring)?;
    let mut bell_seen = 0;
    while counters.messages < count {
        if !back.final_check_for_requests()? {
            peer.wait_for_bell(&control[CONTROL_BELL_TO_BACK], &mut bell_seen, "a request");
            continue;
        }
        while let Some(request) = back.pop_request()? {
            let expected = common::request(counters.messages);
            if request != expected {
                peer.fail(&format!(
                    "request {} is {request:?}, expected {expected:?}",
                    counters.messages
                ));
            }
            back.push_response(&answer(&request))?;
            counters.messages += 1;
        }
        counters.batches += 1;
        if back.push_responses_and_check_notify() {
            control[CONTROL_BELL_TO_FRONT].fetch_add(1, Ordering::SeqCst);
            counters.notifications += 1;
        }
    }
    Ok(())
}

#[test]
fn c_front_and_rust_back_exchange_every_message_over_one_page() {
    let pages = PageFile::create("c-front");
    pages.with_pages(|ring, control| {
        let mut peer = Peer::spawn("front", &pages, MESSAGES);
        let mut ours = Counters::default();
        if let Err(error) = run_back(ring, control, &mut peer, MESSAGES, &mut ours) {
            peer.fail(&format!("our back end rejected a well-behaved front end: {error}"));
        }
        let theirs = parse_counters(&peer.finish());
        theirs.assert_batched("C front", MESSAGES);
        ours.assert_batched("Rust back", MESSAGES);
        // Each of our publications answers at least one whole request batch.
        assert!(ours.batches <= theirs.batches, "ours {ours:?}, theirs {theirs:?}");
        assert_eq!(ring[REQ_PROD].load(Ordering::Relaxed), MESSAGES as u32);
        assert_eq!(ring[RSP_PROD].load(Ordering::Relaxed), MESSAGES as u32);
    });
}

#[test]
fn rust_front_and_c_back_exchange_every_message_over_one_page() {
    let pages = PageFile::create("c-back");
    pages.with_pages(|ring, control| {
        // The front end initialises the ring before the back end attaches.
        let mut front = Front::new(ring).expect("a page holds a ring");
        control[CONTROL_FRONT_READY].store(1, Ordering::Release);
        let mut peer = Peer::spawn("back", &pages, MESSAGES);
        let ours = run_front(&mut front, control, &mut peer, MESSAGES);
        let theirs = parse_counters(&peer.finish());
        ours.assert_batched("Rust front", MESSAGES);
        theirs.assert_batched("C back", MESSAGES);
        assert!(theirs.batches <= ours.batches, "ours {ours:?}, theirs {theirs:?}");
        assert_eq!(ring[REQ_PROD].load(Ordering::Relaxed), MESSAGES as u32);
        assert_eq!(ring[RSP_PROD].load(Ordering::Relaxed), MESSAGES as u32);
    });
}

#[test]
fn rust_back_reports_corrupt_when_the_c_front_claims_more_requests_than_slots() {
    const HONEST: u64 = 5;
    let pages = PageFile::create("hostile-front");
    pages.with_pages(|ring, control| {
        let mut peer = Peer::spawn("hostile-front", &pages, HONEST);
        let mut ours = Counters::default();
        // No request limit: only the hostile index should stop our back end.
        let outcome = run_back(ring, control, &mut peer, u64::MAX, &mut ours);
        let report = peer.finish();
        assert_eq!(ours.messages, HONEST, "the honest requests are answered first");
        // The peer wrote req_prod = rsp_prod_pvt + ring size + 1.
        let hostile = HONEST as u32 + ring_size(PAGE_BYTES, slot_bytes::<Request, Response>()) + 1;
        assert!(
            report.contains(&format!("req_prod={hostile}")),
            "the peer wrote the index we expect: {report:?}"
        );
        assert_eq!(
            outcome,
            Err(RingError::Corrupt {
                peer_index: hostile,
                our_index: HONEST as u32,
            })
        );
    });
}
