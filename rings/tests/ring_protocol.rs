//! The descriptor-ring protocol, step by step.

mod common;

use common::{Request, Response, request, response_to, shared};
use rings::sring::{REQ_EVENT, REQ_PROD, RSP_EVENT, RSP_PROD, needs_notify, ring_size, slot_bytes};
use rings::sync::{AtomicU32, Ordering};
use rings::{BackRing, FrontRing, RingError};

type Front<'m> = FrontRing<'m, [AtomicU32], Request, Response>;
type Back<'m> = BackRing<'m, [AtomicU32], Request, Response>;

#[test]
fn ring_sizes_are_the_largest_power_of_two_that_fits() {
    assert_eq!(slot_bytes::<Request, Response>(), 16);
    assert_eq!(ring_size(4096, 16), 128); // (4096 - 64) / 16 = 252
    assert_eq!(ring_size(4096, 112), 32); // blkif: 36 fit
    assert_eq!(ring_size(8192, 112), 64); // order 1
    assert_eq!(ring_size(4096 << 4, 112), 512); // order 4
    assert_eq!(ring_size(64 + 16, 16), 1);
    assert_eq!(ring_size(64 + 15, 16), 0);
    assert_eq!(ring_size(10, 16), 0);
}

#[test]
fn an_area_too_small_for_one_slot_is_refused() {
    let page = shared(64);
    assert!(matches!(Front::new(&page), Err(RingError::TooSmall)));
    assert!(matches!(Back::new(&page), Err(RingError::TooSmall)));
}

#[test]
fn initialisation_sets_the_event_indices_to_one() {
    let page = shared(4096);
    page[REQ_PROD].store(99, Ordering::Relaxed);
    page[5].store(0xdead, Ordering::Relaxed); // padding
    let front = Front::new(&page).unwrap();
    assert_eq!(front.size(), 128);
    let words: Vec<u32> = page[..16].iter().map(|w| w.load(Ordering::Relaxed)).collect();
    assert_eq!(&words[..4], &[0, 1, 0, 1]);
    assert!(words[4..].iter().all(|&w| w == 0));
}

#[test]
fn requests_and_responses_travel_in_order() {
    let page = shared(4096);
    let mut front = Front::new(&page).unwrap();
    let mut back = Back::new(&page).unwrap();
    for id in 0..10 {
        front.push_request(&request(id)).unwrap();
    }
    assert_eq!(
        back.unconsumed_requests().unwrap(),
        0,
        "nothing is visible before publishing"
    );
    front.push_requests_and_check_notify();
    assert_eq!(back.unconsumed_requests().unwrap(), 10);
    for id in 0..10 {
        let got = back.pop_request().unwrap().unwrap();
        assert_eq!(got, request(id));
        back.push_response(&response_to(&got)).unwrap();
    }
    assert_eq!(back.pop_request().unwrap(), None);
    back.push_responses_and_check_notify();
    for id in 0..10 {
        assert_eq!(front.pop_response().unwrap(), Some(response_to(&request(id))));
    }
    assert_eq!(front.pop_response().unwrap(), None);
    assert_eq!(front.free_requests(), 128);
}

#[test]
fn a_full_ring_refuses_requests_until_responses_are_consumed() {
    let page = shared(64 + 4 * 16);
    let mut front = Front::new(&page).unwrap();
    let mut back = Back::new(&page).unwrap();
    for id in 0..4 {
        front.push_request(&request(id)).unwrap();
    }
    assert!(front.is_full());
    assert_eq!(front.push_request(&request(4)), Err(RingError::Full));
    front.push_requests_and_check_notify();
    // Consuming requests does not free slots: responses still need them.
    let first = back.pop_request().unwrap().unwrap();
    assert!(front.is_full());
    back.push_response(&response_to(&first)).unwrap();
    back.push_responses_and_check_notify();
    assert!(front.is_full(), "a response frees its slot only once consumed");
    front.pop_response().unwrap().unwrap();
    assert_eq!(front.free_requests(), 1);
    front.push_request(&request(4)).unwrap();
}

#[test]
fn responses_need_a_consumed_request() {
    let page = shared(4096);
    let mut front = Front::new(&page).unwrap();
    let mut back = Back::new(&page).unwrap();
    assert_eq!(
        back.push_response(&Response::default()),
        Err(RingError::NothingToAnswer)
    );
    front.push_request(&request(1)).unwrap();
    front.push_requests_and_check_notify();
    assert_eq!(
        back.push_response(&Response::default()),
        Err(RingError::NothingToAnswer)
    );
    back.pop_request().unwrap().unwrap();
    back.push_response(&Response::default()).unwrap();
    assert_eq!(
        back.push_response(&Response::default()),
        Err(RingError::NothingToAnswer)
    );
}

#[test]
fn indices_wrap_at_two_to_the_thirty_two() {
    let page = shared(64 + 8 * 16);
    let start = u32::MAX - 5;
    page[REQ_PROD].store(start, Ordering::Relaxed);
    page[RSP_PROD].store(start, Ordering::Relaxed);
    let mut front = Front::attach(&page, start).unwrap();
    let mut back = Back::attach(&page, start).unwrap();
    for round in 0..5u64 {
        for id in 0..7 {
            front.push_request(&request(round * 10 + id)).unwrap();
        }
        front.push_requests_and_check_notify();
        while let Some(got) = back.pop_request().unwrap() {
            back.push_response(&response_to(&got)).unwrap();
        }
        back.push_responses_and_check_notify();
        for id in 0..7 {
            assert_eq!(
                front.pop_response().unwrap(),
                Some(response_to(&request(round * 10 + id)))
            );
        }
    }
    assert_eq!(front.req_prod_pvt(), start.wrapping_add(35));
    assert!(front.req_prod_pvt() < start, "the index wrapped");
}

#[test]
fn the_back_end_is_notified_only_when_it_asked() {
    let page = shared(4096);
    let mut front = Front::new(&page).unwrap();
    let mut back = Back::new(&page).unwrap();
    front.push_request(&request(0)).unwrap();
    assert!(front.push_requests_and_check_notify(), "req_event starts at 1");
    front.push_request(&request(1)).unwrap();
    assert!(
        !front.push_requests_and_check_notify(),
        "the back end has not asked again"
    );
    while back.pop_request().unwrap().is_some() {}
    assert!(!back.final_check_for_requests().unwrap(), "no work left: sleep");
    assert_eq!(page[REQ_EVENT].load(Ordering::Relaxed), 3);
    front.push_request(&request(2)).unwrap();
    front.push_request(&request(3)).unwrap();
    assert!(
        front.push_requests_and_check_notify(),
        "the sleeper asked for the next request"
    );
    assert!(back.final_check_for_requests().unwrap(), "work is waiting");
}

#[test]
fn the_front_end_is_notified_only_when_it_asked() {
    let page = shared(4096);
    let mut front = Front::new(&page).unwrap();
    let mut back = Back::new(&page).unwrap();
    for id in 0..3 {
        front.push_request(&request(id)).unwrap();
    }
    front.push_requests_and_check_notify();
    for _ in 0..3 {
        let got = back.pop_request().unwrap().unwrap();
        back.push_response(&response_to(&got)).unwrap();
        back.push_responses_and_check_notify();
    }
    // rsp_event started at 1: only the first response asked for a notification.
    assert_eq!(page[RSP_EVENT].load(Ordering::Relaxed), 1);
    while front.pop_response().unwrap().is_some() {}
    assert!(!front.final_check_for_responses().unwrap());
    assert_eq!(page[RSP_EVENT].load(Ordering::Relaxed), 4);
}

#[test]
fn notification_is_needed_exactly_when_the_event_was_passed() {
    assert!(needs_notify(0, 1, 1));
    assert!(!needs_notify(1, 2, 1));
    assert!(needs_notify(0, 5, 3));
    assert!(!needs_notify(0, 5, 6));
    assert!(needs_notify(u32::MAX - 1, 2, 0), "across the wrap");
    assert!(!needs_notify(5, 5, 5), "nothing published, nothing to notify");
}

#[test]
fn a_front_end_claiming_more_requests_than_slots_is_corrupt() {
    let page = shared(4096);
    let _front = Front::new(&page).unwrap();
    let mut back = Back::new(&page).unwrap();
    page[REQ_PROD].store(129, Ordering::Release);
    assert_eq!(
        back.pop_request(),
        Err(RingError::Corrupt {
            peer_index: 129,
            our_index: 0
        })
    );
    page[REQ_PROD].store(128, Ordering::Release);
    assert_eq!(back.unconsumed_requests(), Ok(128), "a full ring is legal");
}

#[test]
fn a_front_end_moving_its_index_backwards_is_corrupt() {
    let page = shared(4096);
    let mut front = Front::new(&page).unwrap();
    let mut back = Back::new(&page).unwrap();
    for id in 0..4 {
        front.push_request(&request(id)).unwrap();
    }
    front.push_requests_and_check_notify();
    for _ in 0..4 {
        let got = back.pop_request().unwrap().unwrap();
        back.push_response(&response_to(&got)).unwrap();
    }
    page[REQ_PROD].store(2, Ordering::Release);
    assert!(matches!(back.unconsumed_requests(), Err(RingError::Corrupt { .. })));
}

#[test]
fn a_back_end_answering_unasked_requests_is_corrupt() {
    let page = shared(4096);
    let mut front = Front::new(&page).unwrap();
    front.push_request(&request(0)).unwrap();
    front.push_request(&request(1)).unwrap();
    front.push_requests_and_check_notify();
    front.push_request(&request(2)).unwrap(); // queued, not published
    page[RSP_PROD].store(3, Ordering::Release);
    assert!(matches!(front.pop_response(), Err(RingError::Corrupt { .. })));
    page[RSP_PROD].store(u32::MAX, Ordering::Release);
    assert!(matches!(front.unconsumed_responses(), Err(RingError::Corrupt { .. })));
    page[RSP_PROD].store(2, Ordering::Release);
    assert_eq!(front.unconsumed_responses(), Ok(2));
}

#[test]
fn overwriting_our_own_shared_indices_changes_nothing_we_rely_on() {
    let page = shared(4096);
    let mut front = Front::new(&page).unwrap();
    let mut back = Back::new(&page).unwrap();
    front.push_request(&request(7)).unwrap();
    front.push_requests_and_check_notify();
    // The back end scribbles over the front end's published req_prod...
    page[REQ_PROD].store(0xffff_0000, Ordering::Relaxed);
    // ...the front end still knows what it published.
    front.push_request(&request(8)).unwrap();
    front.push_requests_and_check_notify();
    assert_eq!(page[REQ_PROD].load(Ordering::Relaxed), 2);
    assert_eq!(back.pop_request().unwrap(), Some(request(7)));
    assert_eq!(back.pop_request().unwrap(), Some(request(8)));
}
