//! crossbeam's `ArrayQueue` (bounded MPMC, capacity 128 like our ring).
//!
//! It has no batch API and no publication step: every push is visible at
//! once. The producer pushes `batch` items per round all the same, so the
//! loop has the shape of the others; for this queue batching changes nothing.

use crate::messages::{Request, Response, check_order, request, response_to, start_together};
use crossbeam_queue::ArrayQueue;
use std::hint::spin_loop;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

/// Slots, as in a one-page ring of 16-byte slots.
const CAPACITY: usize = 128;

/// Time for `messages` requests, pushed `batch` at a time, to be popped.
pub fn throughput(batch: u64, messages: u64) -> Duration {
    let queue = ArrayQueue::new(CAPACITY);
    let start = Barrier::new(2);
    thread::scope(|scope| {
        let consumer = scope.spawn(|| {
            start.wait();
            for received in 0..messages {
                let request: Request = pop(&queue);
                check_order(request.id, received);
            }
            Instant::now()
        });
        let started = start_together(&start);
        let mut sent = 0;
        while sent < messages {
            for _ in 0..batch.min(messages - sent) {
                push(&queue, request(sent));
                sent += 1;
            }
        }
        consumer.join().expect("the consumer finishes") - started
    })
}

/// Time for `trips` round trips: a request one way, its response back, on two
/// queues.
pub fn round_trip(trips: u64) -> Duration {
    let requests = ArrayQueue::new(CAPACITY);
    let responses = ArrayQueue::new(CAPACITY);
    let start = Barrier::new(2);
    thread::scope(|scope| {
        scope.spawn(|| {
            start.wait();
            for _ in 0..trips {
                let request: Request = pop(&requests);
                push(&responses, response_to(&request));
            }
        });
        let started = start_together(&start);
        for trip in 0..trips {
            push(&requests, request(trip));
            let response: Response = pop(&responses);
            check_order(u64::from(response.id), trip & u64::from(u32::MAX));
        }
        started.elapsed()
    })
}

/// Pushes `item`, spinning while the queue is full.
fn push<T>(queue: &ArrayQueue<T>, mut item: T) {
    while let Err(refused) = queue.push(item) {
        item = refused;
        spin_loop();
    }
}

/// Pops the next item, spinning while the queue is empty.
fn pop<T>(queue: &ArrayQueue<T>) -> T {
    loop {
        match queue.pop() {
            Some(item) => return item,
            None => spin_loop(),
        }
    }
}
