//! Our `FrontRing`/`BackRing` over one page of `AtomicU32`s.
//!
//! The front end publishes requests in batches and consumes responses; the
//! back end drains every published request, answers each in its slot, and
//! publishes the answers once per drain. Responses are how a Xen ring frees
//! slots, so the throughput counts a message as delivered when its response
//! is consumed: the ring's cost includes the way back.

use crate::messages::{Request, Response, check_order, request, response_to, start_together};
use rings::sync::AtomicU32;
use rings::{BackRing, FrontRing};
use std::hint::{black_box, spin_loop};
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

/// Words in the 4096-byte page: 64 bytes of header, 128 slots of 16 bytes.
const PAGE_WORDS: usize = 1024;

/// One page-aligned page, as a grant maps it (and as `ring_bench.c` allocates it).
#[repr(C, align(4096))]
struct Page([AtomicU32; PAGE_WORDS]);

/// The front end over a page.
type Front<'m> = FrontRing<'m, [AtomicU32], Request, Response>;
/// The back end over a page.
type Back<'m> = BackRing<'m, [AtomicU32], Request, Response>;

/// Time for `messages` requests, sent in batches of `batch`, to be answered.
pub fn throughput(batch: u64, messages: u64) -> Duration {
    exchange(batch, u64::MAX, messages)
}

/// Time for `trips` round trips of one request and its response.
pub fn round_trip(trips: u64) -> Duration {
    exchange(1, 1, trips)
}

/// Sends `messages` requests in batches of `batch` with at most `window`
/// unanswered, and times it from the start line to the last response.
fn exchange(batch: u64, window: u64, messages: u64) -> Duration {
    let page = Box::new(Page([const { AtomicU32::new(0) }; PAGE_WORDS]));
    let words = &page.0[..];
    let mut front = Front::new(words).expect("a page holds a ring");
    let start = Barrier::new(2);
    thread::scope(|scope| {
        scope.spawn(|| answer_all(words, &start, messages));
        let started = start_together(&start);
        let (mut sent, mut received, mut notifications) = (0, 0, 0u64);
        while received < messages {
            let mut progressed = false;
            let next = batch.min(messages - sent);
            if next > 0 && u64::from(front.free_requests()) >= next && sent - received + next <= window {
                for _ in 0..next {
                    front.push_request(&request(sent)).expect("a free slot");
                    sent += 1;
                }
                notifications += u64::from(front.push_requests_and_check_notify());
                progressed = true;
            }
            while let Some(response) = front.pop_response().expect("a well-behaved back end") {
                check_order(u64::from(response.id), received & u64::from(u32::MAX));
                received += 1;
                progressed = true;
            }
            if !progressed {
                spin_loop();
            }
        }
        let elapsed = started.elapsed();
        black_box(notifications);
        elapsed
    })
}

/// The back end: answers `messages` requests, publishing once per drain.
fn answer_all(words: &[AtomicU32], start: &Barrier, messages: u64) {
    let mut back = Back::new(words).expect("a page holds a ring");
    start.wait();
    let (mut answered, mut notifications) = (0, 0u64);
    while answered < messages {
        let mut drained = 0;
        while let Some(request) = back.pop_request().expect("a well-behaved front end") {
            back.push_response(&response_to(&request)).expect("a request to answer");
            drained += 1;
        }
        if drained == 0 {
            spin_loop();
            continue;
        }
        answered += drained;
        notifications += u64::from(back.push_responses_and_check_notify());
    }
    black_box(notifications);
}
