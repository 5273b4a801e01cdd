//! Property tests: random operation sequences against a model of the protocol,
//! and a hostile peer scribbling over the shared header.

mod common;

use common::{Request, Response, request, response_to, shared};
use proptest::prelude::*;
use rings::sring::{REQ_EVENT, REQ_PROD, RSP_EVENT, RSP_PROD};
use rings::sync::{AtomicU32, Ordering};
use rings::{BackRing, FrontRing, RingError};

type Front<'m> = FrontRing<'m, [AtomicU32], Request, Response>;
type Back<'m> = BackRing<'m, [AtomicU32], Request, Response>;

#[derive(Clone, Debug)]
enum Step {
    PushRequests(u8),
    PublishRequests,
    ConsumeRequests(u8),
    PushResponses(u8),
    PublishResponses,
    ConsumeResponses(u8),
    BackFinalCheck,
    FrontFinalCheck,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u8..40).prop_map(Step::PushRequests),
        Just(Step::PublishRequests),
        (1u8..40).prop_map(Step::ConsumeRequests),
        (1u8..40).prop_map(Step::PushResponses),
        Just(Step::PublishResponses),
        (1u8..40).prop_map(Step::ConsumeResponses),
        Just(Step::BackFinalCheck),
        Just(Step::FrontFinalCheck),
    ]
}

/// Start indices: anywhere, but often just before the 2^32 wrap.
fn start_index() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), (0u32..64).prop_map(|below| u32::MAX - below)]
}

/// What an honest pair of ends must have done, counted in messages.
#[derive(Default)]
struct Model {
    pushed: u64,
    published: u64,
    consumed: u64,
    answered: u64,
    answers_published: u64,
    answers_consumed: u64,
    /// Event indices as offsets from the start index.
    req_event: u64,
    rsp_event: u64,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every request arrives once, in order; every response matches its
    /// request; the ring never holds more than its size; notifications happen
    /// exactly when the sleeping side asked; final checks report exactly the
    /// pending work.
    #[test]
    fn honest_ends_agree_with_the_model(
        start in start_index(),
        slots in prop_oneof![Just(1usize), Just(4), Just(128)],
        steps in proptest::collection::vec(step(), 0..120),
    ) {
        let page = shared(64 + slots * 16);
        page[REQ_PROD].store(start, Ordering::Relaxed);
        page[RSP_PROD].store(start, Ordering::Relaxed);
        page[REQ_EVENT].store(start.wrapping_add(1), Ordering::Relaxed);
        page[RSP_EVENT].store(start.wrapping_add(1), Ordering::Relaxed);
        let mut front = Front::attach(&page, start).unwrap();
        let mut back = Back::attach(&page, start).unwrap();
        let size = slots as u64;
        let mut m = Model { req_event: 1, rsp_event: 1, ..Model::default() };
        for step in steps {
            match step {
                Step::PushRequests(n) => for _ in 0..n {
                    let result = front.push_request(&request(m.pushed));
                    if m.pushed - m.answers_consumed < size {
                        prop_assert_eq!(result, Ok(()));
                        m.pushed += 1;
                    } else {
                        prop_assert_eq!(result, Err(RingError::Full));
                    }
                },
                Step::PublishRequests => {
                    let notify = front.push_requests_and_check_notify();
                    // In unwrapped 64-bit offsets: the event index lies in (old, new].
                    prop_assert_eq!(notify, m.published < m.req_event && m.req_event <= m.pushed);
                    m.published = m.pushed;
                }
                Step::ConsumeRequests(n) => for _ in 0..n {
                    let got = back.pop_request().unwrap();
                    if m.consumed < m.published {
                        prop_assert_eq!(got, Some(request(m.consumed)));
                        m.consumed += 1;
                    } else {
                        prop_assert_eq!(got, None);
                    }
                },
                Step::PushResponses(n) => for _ in 0..n {
                    let result = back.push_response(&response_to(&request(m.answered)));
                    if m.answered < m.consumed {
                        prop_assert_eq!(result, Ok(()));
                        m.answered += 1;
                    } else {
                        prop_assert_eq!(result, Err(RingError::NothingToAnswer));
                    }
                },
                Step::PublishResponses => {
                    let notify = back.push_responses_and_check_notify();
                    prop_assert_eq!(notify, m.answers_published < m.rsp_event && m.rsp_event <= m.answered);
                    m.answers_published = m.answered;
                }
                Step::ConsumeResponses(n) => for _ in 0..n {
                    let got = front.pop_response().unwrap();
                    if m.answers_consumed < m.answers_published {
                        prop_assert_eq!(got, Some(response_to(&request(m.answers_consumed))));
                        m.answers_consumed += 1;
                    } else {
                        prop_assert_eq!(got, None);
                    }
                },
                Step::BackFinalCheck => {
                    let work = back.final_check_for_requests().unwrap();
                    prop_assert_eq!(work, m.published > m.consumed);
                    if !work {
                        m.req_event = m.consumed + 1;
                    }
                }
                Step::FrontFinalCheck => {
                    let work = front.final_check_for_responses().unwrap();
                    prop_assert_eq!(work, m.answers_published > m.answers_consumed);
                    if !work {
                        m.rsp_event = m.answers_consumed + 1;
                    }
                }
            }
            prop_assert_eq!(u64::from(front.free_requests()), size - (m.pushed - m.answers_consumed));
        }
    }

    /// A peer that writes anything into the header at any time cannot make
    /// either end panic, read or write out of bounds, or hand out more entries
    /// than the ring holds between two honest points.
    #[test]
    fn a_scribbling_peer_never_breaks_our_side(
        start in start_index(),
        steps in proptest::collection::vec((step(), proptest::option::of((0usize..4, any::<u32>()))), 0..150),
    ) {
        let page = shared(64 + 4 * 16);
        let mut front = Front::attach(&page, start).unwrap();
        let mut back = Back::attach(&page, start).unwrap();
        for (step, scribble) in steps {
            if let Some((word, value)) = scribble {
                page[word].store(value, Ordering::Relaxed);
            }
            match step {
                Step::PushRequests(n) => for id in 0..n { let _ = front.push_request(&request(u64::from(id))); },
                Step::PublishRequests => { front.push_requests_and_check_notify(); }
                Step::ConsumeRequests(n) => {
                    let mut taken = 0;
                    for _ in 0..n {
                        match back.pop_request() {
                            Ok(Some(_)) => taken += 1,
                            Ok(None) | Err(_) => break,
                        }
                    }
                    prop_assert!(taken <= 4 + 4, "took {} requests from a 4-slot ring", taken);
                }
                Step::PushResponses(n) => for _ in 0..n { let _ = back.push_response(&Response::default()); },
                Step::PublishResponses => { back.push_responses_and_check_notify(); }
                Step::ConsumeResponses(n) => for _ in 0..n { let _ = front.pop_response(); },
                Step::BackFinalCheck => { let _ = back.final_check_for_requests(); }
                Step::FrontFinalCheck => { let _ = front.final_check_for_responses(); }
            }
            // Our private bookkeeping stays within the protocol's bounds.
            prop_assert!(back.req_cons().wrapping_sub(back.rsp_prod_pvt()) <= 4);
            prop_assert!(front.free_requests() <= 4);
        }
    }
}
