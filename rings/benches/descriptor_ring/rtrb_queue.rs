//! `rtrb`, a wait-free SPSC ring buffer (capacity 128 like our ring).
//!
//! Batches of more than one go through its chunk API: the producer claims
//! `batch` slots with `write_chunk_uninit` and commits them at once, the
//! consumer takes everything readable with `read_chunk`. Batches of one use
//! `push` and `pop`, the per-item API.

use crate::messages::{Request, Response, check_order, request, response_to, start_together};
use rtrb::{Consumer, Producer, RingBuffer};
use std::hint::spin_loop;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

/// Slots, as in a one-page ring of 16-byte slots.
const CAPACITY: usize = 128;

/// Time for `messages` requests, written `batch` at a time, to be read.
pub fn throughput(batch: u64, messages: u64) -> Duration {
    let (mut producer, mut consumer) = RingBuffer::<Request>::new(CAPACITY);
    let start = Barrier::new(2);
    thread::scope(|scope| {
        let consumer = scope.spawn(|| {
            start.wait();
            let mut received = 0;
            while received < messages {
                if batch == 1 {
                    check_order(pop(&mut consumer).id, received);
                    received += 1;
                    continue;
                }
                let readable = consumer.slots();
                if readable == 0 {
                    spin_loop();
                    continue;
                }
                let chunk = consumer.read_chunk(readable).expect("slots() are readable");
                for request in chunk {
                    check_order(request.id, received);
                    received += 1;
                }
            }
            Instant::now()
        });
        let started = start_together(&start);
        let mut sent = 0;
        while sent < messages {
            let next = batch.min(messages - sent);
            if next == 1 {
                push(&mut producer, request(sent));
            } else {
                let chunk = loop {
                    match producer.write_chunk_uninit(next as usize) {
                        Ok(chunk) => break chunk,
                        Err(_) => spin_loop(),
                    }
                };
                chunk.fill_from_iter((sent..sent + next).map(request));
            }
            sent += next;
        }
        consumer.join().expect("the consumer finishes") - started
    })
}

/// Time for `trips` round trips: a request one way, its response back, on two
/// ring buffers.
pub fn round_trip(trips: u64) -> Duration {
    let (mut request_producer, mut request_consumer) = RingBuffer::<Request>::new(CAPACITY);
    let (mut response_producer, mut response_consumer) = RingBuffer::<Response>::new(CAPACITY);
    let start = Barrier::new(2);
    thread::scope(|scope| {
        scope.spawn(|| {
            start.wait();
            for _ in 0..trips {
                let request = pop(&mut request_consumer);
                push(&mut response_producer, response_to(&request));
            }
        });
        let started = start_together(&start);
        for trip in 0..trips {
            push(&mut request_producer, request(trip));
            let response = pop(&mut response_consumer);
            check_order(u64::from(response.id), trip & u64::from(u32::MAX));
        }
        started.elapsed()
    })
}

/// Pushes `item`, spinning while the buffer is full.
fn push<T>(producer: &mut Producer<T>, mut item: T) {
    while let Err(rtrb::PushError::Full(refused)) = producer.push(item) {
        item = refused;
        spin_loop();
    }
}

/// Pops the next item, spinning while the buffer is empty.
fn pop<T>(consumer: &mut Consumer<T>) -> T {
    loop {
        match consumer.pop() {
            Ok(item) => return item,
            Err(_) => spin_loop(),
        }
    }
}
