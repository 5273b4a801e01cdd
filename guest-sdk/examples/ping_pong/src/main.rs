//! Domains signalling each other over interdomain event channels, and one
//! dying among them. One image, four roles (`role=` on the command line):
//!
//! - `referee` (dom0) plays `rounds=` rounds: it sends a token to ping and
//!   waits, a second at most, for it to come back. Halfway it tells the
//!   crasher to crash; it must hear VIRQ_DOM_EXC while the rounds go on. It
//!   powers off (success) only if every round came back and the death was
//!   reported before the last one.
//! - `ping` (d1) passes the token from dom0 to pong, and pong's answer back
//!   to dom0: the domU pair plays ping-pong.
//! - `pong` (d2) answers every ping.
//! - `crasher` (d3) divides by zero when dom0 says so.
//!
//! All the work is done by per-port handlers run from the event upcall; the
//! main code sleeps in `wait_until`. Until xenstore (issue 7) carries port
//! numbers, each side knows the other's: a domU numbers its own ports from
//! `FIRST_DOMU_PORT` (3; the builder offered 1 and 2 to dom0 for its
//! xenstore and console rings) in the order it makes them. A binder
//! retries until the offer exists.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use guest_sdk::shared_info::SHARED_INFO;
use guest_sdk::start_info::{StartInfo, command_line, parameter};
use guest_sdk::{XenError, event_channel, println, sched, time, upcall};
use xen_abi::event_channel::{EvtchnPort, VIRQ_DOM_EXC};
use xen_abi::mmu::DomId;

/// Domain ids, in the bundle's manifest order.
const PING: DomId = 1;
const PONG: DomId = 2;
const CRASHER: DomId = 3;
/// The port every offering domU makes first.
const FIRST_PORT: EvtchnPort = event_channel::FIRST_DOMU_PORT;
/// How long the referee waits for a token, and for the death report.
const PATIENCE_NS: u64 = 1_000_000_000;

/// The ports a role's handlers send on.
static TO_REFEREE: AtomicU32 = AtomicU32::new(0);
static TO_PONG: AtomicU32 = AtomicU32::new(0);
/// Rounds to play, from the command line.
static ROUNDS: AtomicU32 = AtomicU32::new(0);
/// Tokens back at the referee; pongs seen by ping; pings seen by pong.
static RETURNED: AtomicU32 = AtomicU32::new(0);
static PONGS: AtomicU32 = AtomicU32::new(0);
static PINGS: AtomicU32 = AtomicU32::new(0);
/// The referee's count of returned tokens when VIRQ_DOM_EXC came, plus one
/// (0: not yet).
static DEATH_AT_ROUND: AtomicU32 = AtomicU32::new(0);
/// Set when the crasher is told to crash.
static CRASH_NOW: AtomicBool = AtomicBool::new(false);

/// The value of a step, or a crash that says which step failed.
fn check<T>(result: Result<T, XenError>, step: &str) -> T {
    result.unwrap_or_else(|error| {
        println!("ping_pong: {step} failed: {error}");
        sched::crash()
    })
}

/// Offers our next port to `remote`, which must find it at [`FIRST_PORT`].
fn offer_first_port(remote: DomId) -> EvtchnPort {
    let port = check(event_channel::alloc_unbound(remote), "alloc_unbound");
    if port != FIRST_PORT {
        println!("ping_pong: offered port {port}, but the peer looks for {FIRST_PORT}");
        sched::crash()
    }
    port
}

/// Binds to `remote`'s first port once it is offered (the other domain may
/// not have run yet), and clears the event the bind raises on our end.
fn connect(remote: DomId) -> EvtchnPort {
    for _ in 0..10_000 {
        match event_channel::bind_interdomain(remote, FIRST_PORT) {
            Ok(port) => {
                // Xen marks a freshly bound port pending; it is no token.
                SHARED_INFO.clear_pending(port);
                return port;
            }
            Err(_) => check(sched::yield_now(), "yield"),
        }
    }
    println!("ping_pong: d{remote} never offered port {FIRST_PORT}");
    sched::crash()
}

/// Sends on `port` from a handler, where a failure can only be reported.
fn send(port: &AtomicU32) {
    if let Err(error) = event_channel::send(port.load(SeqCst)) {
        println!("ping_pong: send failed: {error}");
    }
}

fn referee(rounds: u32) -> ! {
    let dom_exc = check(event_channel::bind_virq(VIRQ_DOM_EXC), "bind VIRQ_DOM_EXC");
    check(
        upcall::set_handler(dom_exc, |_| {
            let _ = DEATH_AT_ROUND.compare_exchange(0, RETURNED.load(SeqCst) + 1, SeqCst, SeqCst);
        }),
        "VIRQ_DOM_EXC handler",
    );
    let to_ping = connect(PING);
    let to_crasher = connect(CRASHER);
    check(
        upcall::set_handler(to_ping, |_| {
            RETURNED.fetch_add(1, SeqCst);
        }),
        "token handler",
    );
    println!("referee: connected to ping (port {to_ping}) and the crasher (port {to_crasher}); {rounds} rounds");
    let started = time::now();
    for round in 0..rounds {
        if round == rounds / 2 {
            check(event_channel::send(to_crasher), "send to the crasher");
        }
        check(event_channel::send(to_ping), "send the token");
        let deadline = time::now() + PATIENCE_NS;
        if !check(sched::wait_until(deadline, || RETURNED.load(SeqCst) > round), "wait") {
            println!("referee: round {round}: the token did not come back in 1 s");
            sched::crash()
        }
    }
    let elapsed = time::now() - started;
    let returned = RETURNED.load(SeqCst);
    let deadline = time::now() + PATIENCE_NS;
    check(sched::wait_until(deadline, || DEATH_AT_ROUND.load(SeqCst) != 0), "wait");
    let death = DEATH_AT_ROUND.load(SeqCst);
    println!(
        "referee: {returned} of {rounds} tokens came back through ping and pong in {} us",
        elapsed / 1000
    );
    match death {
        0 => println!("referee: no VIRQ_DOM_EXC after the crasher was told to crash"),
        at if at - 1 < rounds && returned == rounds => {
            println!(
                "referee: VIRQ_DOM_EXC after round {}: a domain died and the others went on",
                at - 1
            );
            println!("referee: ping-pong passed");
            sched::power_off()
        }
        at => println!("referee: VIRQ_DOM_EXC came only after round {}", at - 1),
    }
    sched::crash()
}

fn ping() -> ! {
    TO_REFEREE.store(offer_first_port(0), SeqCst);
    TO_PONG.store(connect(PONG), SeqCst);
    check(
        upcall::set_handler(TO_PONG.load(SeqCst), |_| {
            let pongs = PONGS.fetch_add(1, SeqCst) + 1;
            if pongs == ROUNDS.load(SeqCst) {
                // Before the last token goes back: dom0 ends the run then.
                println!("ping: {pongs} pongs, each passed back to dom0");
            }
            send(&TO_REFEREE);
        }),
        "pong handler",
    );
    check(
        upcall::set_handler(TO_REFEREE.load(SeqCst), |_| send(&TO_PONG)),
        "token handler",
    );
    sleep_forever()
}

fn pong() -> ! {
    TO_PONG.store(offer_first_port(PING), SeqCst);
    check(
        upcall::set_handler(TO_PONG.load(SeqCst), |_| {
            let pings = PINGS.fetch_add(1, SeqCst) + 1;
            if pings == ROUNDS.load(SeqCst) {
                println!("pong: {pings} pings answered");
            }
            send(&TO_PONG);
        }),
        "ping handler",
    );
    sleep_forever()
}

fn crasher() -> ! {
    let port = offer_first_port(0);
    check(upcall::set_handler(port, |_| CRASH_NOW.store(true, SeqCst)), "handler");
    check(sched::wait_until(0, || CRASH_NOW.load(SeqCst)), "wait");
    println!("crasher: told to crash; dividing by zero");
    guest_sdk::fault::divide_by_zero();
    println!("crasher: still alive after dividing by zero");
    sched::crash()
}

/// Done: block with nothing to wake for, using no CPU, until dom0 ends the run.
fn sleep_forever() -> ! {
    loop {
        check(sched::wait_until(0, || false), "wait");
    }
}

fn main(info: &'static StartInfo) -> ! {
    let line = command_line(info);
    let rounds = parameter(line, "rounds").and_then(|n| n.parse().ok()).unwrap_or(1000);
    ROUNDS.store(rounds, SeqCst);
    check(upcall::start(info), "starting events");
    match parameter(line, "role") {
        Some("referee") => referee(rounds),
        Some("ping") => ping(),
        Some("pong") => pong(),
        Some("crasher") => crasher(),
        other => {
            println!("ping_pong: unknown role {other:?}");
            sched::crash()
        }
    }
}

guest_sdk::entry!(main);
