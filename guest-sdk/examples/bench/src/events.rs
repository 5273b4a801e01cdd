//! Event-channel and scheduling benchmarks.
//!
//! - Loopback (runs on real Xen too, as a lone dom0): two ports of ours
//!   bound to each other. A round trip is a send on A, the upcall running
//!   B's handler, which sends on B, and A's handler in the same upcall.
//! - A send to a masked port: the hypervisor sets the pending bit (already
//!   set after the first) and raises no upcall.
//! - Two domains (xen-core, with the `echo` partner as d1): a round trip
//!   is a send to d1, whose handler sends back, and our handler seeing it;
//!   both domains block in between, so each round switches twice. And
//!   `sched_op` yield while d1 yields too: each of our calls runs d1 once.

use crate::measure::{CALLS, per_iteration};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::SeqCst};
use guest_sdk::shared_info::SHARED_INFO;
use guest_sdk::{XenError, event_channel, println, sched, upcall};
use xen_abi::event_channel::EvtchnPort;
use xen_abi::mmu::{DOMID_SELF, DomId};

/// Round trips completed: counted by the handler of the port that
/// receives the answer.
static ANSWERS: AtomicU64 = AtomicU64::new(0);
/// The port a handler answers on.
static ANSWER_ON: AtomicU32 = AtomicU32::new(0);
/// The echo partner yields while this is set.
static YIELDING: AtomicBool = AtomicBool::new(false);

/// Counts an answer.
fn count_answer(_port: EvtchnPort) {
    ANSWERS.fetch_add(1, SeqCst);
}

/// Sends on [`ANSWER_ON`].
fn answer(_port: EvtchnPort) {
    let _ = event_channel::send(ANSWER_ON.load(SeqCst));
}

/// The loopback round trip and the masked send; `Err` if events cannot be
/// set up here.
pub fn loopback() -> Result<(), XenError> {
    let a = event_channel::alloc_unbound(DOMID_SELF)?;
    let b = event_channel::bind_interdomain(DOMID_SELF, a)?;
    SHARED_INFO.clear_pending(b); // the bind marks it pending
    ANSWER_ON.store(b, SeqCst);
    upcall::set_handler(b, answer)?;
    upcall::set_handler(a, count_answer)?;
    let before = ANSWERS.load(SeqCst);
    let ticks = per_iteration(CALLS, |_| {
        let _ = event_channel::send(a);
    });
    let answered = ANSWERS.load(SeqCst) - before;
    if answered != CALLS {
        println!("bench evtchn loopback: {answered} of {CALLS} round trips completed");
        return Ok(());
    }
    println!("bench evtchn_loopback_round_trip: {ticks} per round trip");
    SHARED_INFO.mask(b);
    let ticks = per_iteration(CALLS, |_| {
        let _ = event_channel::send(a);
    });
    println!("bench evtchn_send_masked: {ticks} per call");
    upcall::clear_handler(a);
    upcall::clear_handler(b);
    event_channel::close(a)?;
    event_channel::close(b)
}

/// The echo partner's two ports, offered to dom0 in this order: the echo
/// port and the yield switch.
const ECHO_PORT: EvtchnPort = guest_sdk::event_channel::FIRST_DOMU_PORT;

/// Round trips to the echo partner `partner` and yields beside it.
pub fn two_domains(partner: DomId) -> Result<(), XenError> {
    let mut attempts = 0;
    let (echo, switch) = loop {
        let bound = event_channel::bind_interdomain(partner, ECHO_PORT)
            .and_then(|echo| Ok((echo, event_channel::bind_interdomain(partner, ECHO_PORT + 1)?)));
        match bound {
            Ok(ports) => break ports,
            Err(error) if attempts == 10_000 => return Err(error),
            Err(_) => {
                attempts += 1;
                sched::yield_now()?;
            }
        }
    };
    SHARED_INFO.clear_pending(echo);
    upcall::set_handler(echo, count_answer)?;
    // Warm up: the partner's first answers run cold code.
    for _ in 0..10 {
        round_trip(echo)?;
    }
    let before = ANSWERS.load(SeqCst);
    let ticks = per_iteration(CALLS, |_| {
        let _ = round_trip(echo);
    });
    let answered = ANSWERS.load(SeqCst) - before;
    if answered != CALLS {
        println!("bench two domains: {answered} of {CALLS} round trips completed");
        return Ok(());
    }
    println!("bench evtchn_round_trip_two_domains: {ticks} per round trip");
    event_channel::send(switch)?; // the partner starts yielding
    for _ in 0..10 {
        sched::yield_now()?;
    }
    let ticks = per_iteration(CALLS, |_| {
        let _ = sched::yield_now();
    });
    println!("bench sched_op_yield_two_domains: {ticks} per call");
    event_channel::send(switch)
}

/// Sends to the partner and sleeps until its answer is counted.
fn round_trip(echo: EvtchnPort) -> Result<(), XenError> {
    let target = ANSWERS.load(SeqCst) + 1;
    event_channel::send(echo)?;
    sched::wait_until(0, || ANSWERS.load(SeqCst) >= target).map(drop)
}

/// The partner domain: offers dom0 an echo port (answered from its
/// handler) and a switch that turns yielding on and off; never returns.
pub fn echo() -> Result<(), XenError> {
    let echo = event_channel::alloc_unbound(0)?;
    let switch = event_channel::alloc_unbound(0)?;
    if (echo, switch) != (ECHO_PORT, ECHO_PORT + 1) {
        println!("echo: offered ports {echo} and {switch}, but dom0 looks for 1 and 2");
        sched::crash()
    }
    ANSWER_ON.store(echo, SeqCst);
    upcall::set_handler(echo, answer)?;
    upcall::set_handler(switch, |_| {
        YIELDING.fetch_xor(true, SeqCst);
    })?;
    loop {
        sched::wait_until(0, || YIELDING.load(SeqCst))?;
        while YIELDING.load(SeqCst) {
            sched::yield_now()?;
        }
    }
}
