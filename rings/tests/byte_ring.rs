//! Console and xenstore byte rings.

mod common;

use common::shared;
use proptest::prelude::*;
use rings::RingError;
use rings::byte_ring::{ByteConsumer, ByteProducer, ByteRingLayout, CONSOLE_IN, CONSOLE_OUT, XENSTORE_REQUESTS};
use rings::sync::{AtomicU32, Ordering};
use std::collections::VecDeque;

fn set_index(page: &[AtomicU32], offset: usize, value: u32) {
    page[offset / 4].store(value, Ordering::Relaxed);
}

#[test]
fn console_output_travels_and_input_is_separate() {
    let page = shared(4096);
    let mut guest_out = ByteProducer::attach(&page[..], CONSOLE_OUT).unwrap();
    let mut backend_out = ByteConsumer::attach(&page[..], CONSOLE_OUT).unwrap();
    let mut backend_in = ByteProducer::attach(&page[..], CONSOLE_IN).unwrap();
    let mut guest_in = ByteConsumer::attach(&page[..], CONSOLE_IN).unwrap();
    assert_eq!(guest_out.write(b"hello, console\n").unwrap(), 15);
    assert_eq!(backend_in.write(b"ls\n").unwrap(), 3);
    let mut buffer = [0u8; 64];
    let n = backend_out.read(&mut buffer).unwrap();
    assert_eq!(&buffer[..n], b"hello, console\n");
    let n = guest_in.read(&mut buffer).unwrap();
    assert_eq!(&buffer[..n], b"ls\n");
    assert_eq!(page[CONSOLE_OUT.prod_offset / 4].load(Ordering::Relaxed), 15);
    assert_eq!(page[CONSOLE_OUT.cons_offset / 4].load(Ordering::Relaxed), 15);
}

#[test]
fn writes_are_partial_when_the_ring_fills() {
    let page = shared(4096);
    let mut producer = ByteProducer::attach(&page[..], CONSOLE_OUT).unwrap();
    let mut consumer = ByteConsumer::attach(&page[..], CONSOLE_OUT).unwrap();
    let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    assert_eq!(producer.write(&data).unwrap(), 2048);
    assert_eq!(producer.write(&data).unwrap(), 0);
    let mut buffer = vec![0u8; 100];
    assert_eq!(consumer.read(&mut buffer).unwrap(), 100);
    assert_eq!(&buffer[..], &data[..100]);
    assert_eq!(producer.write(&data[2048..]).unwrap(), 100);
    let mut rest = vec![0u8; 4096];
    assert_eq!(consumer.read(&mut rest).unwrap(), 2048);
    assert_eq!(&rest[..1948], &data[100..2048]);
    assert_eq!(&rest[1948..2048], &data[2048..2148]);
}

#[test]
fn a_consumer_index_ahead_of_the_producer_is_corrupt() {
    let page = shared(4096);
    let mut producer = ByteProducer::attach(&page[..], XENSTORE_REQUESTS).unwrap();
    producer.write(b"abc").unwrap();
    set_index(&page, XENSTORE_REQUESTS.cons_offset, 10);
    assert_eq!(
        producer.write(b"d"),
        Err(RingError::Corrupt {
            peer_index: 10,
            our_index: 3
        })
    );
}

#[test]
fn a_producer_claiming_more_than_the_ring_holds_is_corrupt() {
    let page = shared(4096);
    let mut consumer = ByteConsumer::attach(&page[..], CONSOLE_IN).unwrap();
    set_index(&page, CONSOLE_IN.prod_offset, 1025);
    let mut buffer = [0u8; 8];
    assert_eq!(
        consumer.read(&mut buffer),
        Err(RingError::Corrupt {
            peer_index: 1025,
            our_index: 0
        })
    );
    set_index(&page, CONSOLE_IN.prod_offset, 1024);
    assert_eq!(consumer.read(&mut buffer), Ok(8), "a full ring is legal");
}

#[test]
fn a_layout_outside_the_page_is_refused() {
    let page = shared(2048);
    assert!(matches!(
        ByteProducer::attach(&page[..], CONSOLE_OUT),
        Err(RingError::TooSmall)
    ));
    let odd = ByteRingLayout {
        size: 1000,
        ..CONSOLE_IN
    };
    let page = shared(4096);
    assert!(matches!(ByteConsumer::attach(&page[..], odd), Err(RingError::TooSmall)));
}

proptest! {
    /// Chunks written and read in any sizes, across the 2^32 wrap, come out
    /// as the same byte stream.
    #[test]
    fn the_byte_stream_survives_any_chunking(
        start in prop_oneof![any::<u32>(), (0u32..4096).prop_map(|b| u32::MAX - b)],
        chunks in proptest::collection::vec((0usize..3000, 0usize..3000), 0..40),
    ) {
        let page = shared(4096);
        set_index(&page, CONSOLE_OUT.prod_offset, start);
        set_index(&page, CONSOLE_OUT.cons_offset, start);
        let mut producer = ByteProducer::attach(&page[..], CONSOLE_OUT).unwrap();
        let mut consumer = ByteConsumer::attach(&page[..], CONSOLE_OUT).unwrap();
        let mut model = VecDeque::new();
        let mut next = 0u8;
        for (write, read) in chunks {
            let data: Vec<u8> = (0..write).map(|_| { next = next.wrapping_add(1); next }).collect();
            let written = producer.write(&data).unwrap();
            prop_assert_eq!(written, write.min(2048 - model.len()));
            model.extend(&data[..written]);
            // What was not written is offered again first, as a real writer would.
            next = next.wrapping_sub((write - written) as u8);
            let mut buffer = vec![0u8; read];
            let got = consumer.read(&mut buffer).unwrap();
            prop_assert_eq!(got, read.min(model.len()));
            let expected: Vec<u8> = model.drain(..got).collect();
            prop_assert_eq!(&buffer[..got], &expected[..]);
        }
    }

    /// Whatever the peer writes into the indices, reads and writes stay in
    /// bounds, never panic, and never claim more bytes than the ring holds.
    #[test]
    fn hostile_indices_never_break_our_side(
        values in proptest::collection::vec((any::<bool>(), any::<u32>(), 0usize..5000), 0..60),
    ) {
        let page = shared(4096);
        let mut producer = ByteProducer::attach(&page[..], CONSOLE_OUT).unwrap();
        let mut consumer = ByteConsumer::attach(&page[..], CONSOLE_IN).unwrap();
        for (target_cons, value, len) in values {
            let offset = if target_cons { CONSOLE_OUT.cons_offset } else { CONSOLE_IN.prod_offset };
            set_index(&page, offset, value);
            if let Ok(n) = producer.write(&vec![7u8; len]) {
                prop_assert!(n <= len.min(2048));
            }
            let mut buffer = vec![0u8; len];
            if let Ok(n) = consumer.read(&mut buffer) {
                prop_assert!(n <= len.min(1024));
            }
        }
    }
}
