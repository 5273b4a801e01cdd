//! loom models of the notification protocol: no lost wake-up, no missed or
//! duplicated entry, in both directions.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p rings --test loom_notify --release`
//! (`cargo xtask test` does). The event channel is modelled as a pending bit:
//! a notification sets it, a sleeper that finds it set runs again. A lost
//! wake-up is a consumer asleep with entries left and no pending bit.
//!
//! What this catches, checked by mutation: turning `full_barrier` into a no-op
//! fails both models. What it cannot catch: dropping the barrier on one side
//! only. Loom models `fence(SeqCst)` with a global happens-before that is
//! stronger than the C++/Rust memory model (tokio-rs/loom PR 220), so one
//! side's fence hides the other's absence. The cross-process differential
//! test against C (`c_differential.rs`) runs the real thing on real cores.
#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::AtomicBool;
use loom::thread;
use rings::sync::{AtomicU32, Ordering};
use rings::{BackRing, FrontRing};

/// Entries each model sends: two, so the second publication can race the
/// consumer's final check after the first was consumed.
const MESSAGES: u32 = 2;

/// Every interleaving with up to this many preemptions: the lost wake-up
/// needs one (between the consumer's event store and its re-check), so three
/// leaves margin while keeping the search to seconds.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// Takes the pending bit (clears it, says whether it was set).
///
/// A `compare_exchange`, not a `swap`: loom 0.7 lets a racing store slip
/// between the read and the write of `swap` and `fetch_and` (tokio-rs/loom
/// issue 254), which reports impossible executions; `compare_exchange` is
/// modelled correctly and means the same for a flag.
fn take_pending(pending: &AtomicBool) -> bool {
    pending
        .compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
}

fn page(slots: usize) -> Arc<Vec<AtomicU32>> {
    Arc::new((0..(64 + slots * 4) / 4).map(|_| AtomicU32::new(0)).collect())
}

/// Consumes requests until the final check says there is nothing left and no
/// notification is pending, the way a back end's event handler would.
fn serve_requests(back: &mut BackRing<'_, [AtomicU32], u32, u32>, pending: &AtomicBool, got: &mut Vec<u32>) {
    loop {
        while let Some(request) = back.pop_request().unwrap() {
            got.push(request);
        }
        if back.final_check_for_requests().unwrap() {
            continue;
        }
        if take_pending(pending) {
            continue;
        }
        return; // asleep until the next notification
    }
}

#[test]
fn requests_never_wait_on_a_sleeping_back_end() {
    model(|| {
        let shared = page(4);
        FrontRing::<[AtomicU32], u32, u32>::new(&shared[..]).unwrap();
        let pending = Arc::new(AtomicBool::new(false));
        let producer = {
            let (shared, pending) = (shared.clone(), pending.clone());
            thread::spawn(move || {
                let mut front = FrontRing::<[AtomicU32], u32, u32>::attach(&shared[..], 0).unwrap();
                for request in 0..MESSAGES {
                    front.push_request(&request).unwrap();
                    if front.push_requests_and_check_notify() {
                        pending.store(true, Ordering::SeqCst);
                    }
                }
            })
        };
        let mut back = BackRing::<[AtomicU32], u32, u32>::new(&shared[..]).unwrap();
        let mut got = Vec::new();
        serve_requests(&mut back, &pending, &mut got);
        producer.join().unwrap();
        // Asleep now: only a pending notification may wake the back end.
        if take_pending(&pending) {
            serve_requests(&mut back, &pending, &mut got);
        }
        assert_eq!(got, (0..MESSAGES).collect::<Vec<_>>(), "lost wake-up or missed entry");
    });
}

#[test]
fn responses_never_wait_on_a_sleeping_front_end() {
    model(|| {
        let shared = page(4);
        let mut front = FrontRing::<[AtomicU32], u32, u32>::new(&shared[..]).unwrap();
        // The requests are already answered in the back end's view; the model
        // is the response direction only.
        for request in 0..MESSAGES {
            front.push_request(&request).unwrap();
        }
        front.push_requests_and_check_notify();
        let pending = Arc::new(AtomicBool::new(false));
        let responder = {
            let (shared, pending) = (shared.clone(), pending.clone());
            thread::spawn(move || {
                let mut back = BackRing::<[AtomicU32], u32, u32>::new(&shared[..]).unwrap();
                for _ in 0..MESSAGES {
                    let request = back.pop_request().unwrap().unwrap();
                    back.push_response(&(request + 100)).unwrap();
                    if back.push_responses_and_check_notify() {
                        pending.store(true, Ordering::SeqCst);
                    }
                }
            })
        };
        let mut got = Vec::new();
        let mut drain = |front: &mut FrontRing<'_, [AtomicU32], u32, u32>| loop {
            while let Some(response) = front.pop_response().unwrap() {
                got.push(response);
            }
            if front.final_check_for_responses().unwrap() || take_pending(&pending) {
                continue;
            }
            return;
        };
        drain(&mut front);
        responder.join().unwrap();
        if take_pending(&pending) {
            drain(&mut front);
        }
        assert_eq!(
            got,
            (100..100 + MESSAGES).collect::<Vec<_>>(),
            "lost wake-up or missed entry"
        );
    });
}
