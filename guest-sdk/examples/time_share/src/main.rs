//! Timers, CPU shares and idling. One image, three roles (`role=` on the
//! command line):
//!
//! - `sleeper` (dom0) warms up, then sleeps for 1 to 100 ms at a time while
//!   the spinners keep the CPU busy, and checks each wake-up: the timer's
//!   upcall never before the deadline, the return from `sleep` at most
//!   `tolerance_us=` after it. Then it waits for both spinners to end
//!   (VIRQ_DOM_EXC, then asking which are gone) and sleeps `idle_ms=` more with nothing else runnable,
//!   so that the CPU idles. It powers off (success) if every wake-up was in
//!   time.
//! - `spinner` counts loop iterations until system time `until_ms=`, prints
//!   the count and powers off. Two spinners with weights 256 and 512 should
//!   get CPU in the ratio 1:2; the hypervisor logs each one's CPU time.
//! - `blocker` blocks with nothing to wake it: it must use no CPU.
#![no_std]
#![no_main]

use guest_sdk::start_info::{StartInfo, command_line, parameter};
use guest_sdk::{XenError, event_channel, println, sched, time, upcall};
use xen_abi::errno::Errno;
use xen_abi::event_channel::VIRQ_DOM_EXC;
use xen_abi::mmu::DomId;

/// Sleeps dom0 takes while the spinners run, in ms.
const SLEEPS_MS: [u64; 7] = [1, 2, 5, 10, 20, 50, 100];
const MS: u64 = 1_000_000;
/// How long dom0 sleeps in 1 ms steps before it measures.
const WARM_UP_MS: u64 = 100;

/// The value of a step, or a crash that says which step failed.
fn check<T>(result: Result<T, XenError>, step: &str) -> T {
    result.unwrap_or_else(|error| {
        println!("time_share: {step} failed: {error}");
        sched::crash()
    })
}

/// A numeric command-line parameter, or `default`.
fn number(line: &str, key: &str, default: u64) -> u64 {
    parameter(line, key).and_then(|n| n.parse().ok()).unwrap_or(default)
}

/// Whether domain `id` is gone: event-channel status of its port 0 gives
/// ESRCH for a domain that does not exist.
fn domain_gone(id: DomId) -> bool {
    matches!(event_channel::status(id, 0), Err(error) if error.code == Errno::ESRCH.as_return())
}

fn sleeper(line: &str) -> ! {
    let tolerance = number(line, "tolerance_us", 2_000) * 1000;
    let spinners = number(line, "spinners", 2);
    let port = check(event_channel::bind_virq(VIRQ_DOM_EXC), "bind VIRQ_DOM_EXC");
    // The handler has nothing to do: the wake-up makes `wait_until` look
    // again at which spinners are gone.
    check(upcall::set_handler(port, |_| {}), "VIRQ_DOM_EXC handler");
    // Warm up, unmeasured: on QEMU's host-time clock the first run of each
    // code path costs milliseconds of translation, charged to dom0 as CPU
    // time, which can leave it over its credit (and so without a wake-up
    // boost) while the spinners run. 100 ms of 1 ms sleeps lets the
    // accounting pay that back. (The scenario runs on an instruction
    // clock, where translation takes no guest time; booted by hand, the
    // warm-up still matters.)
    let warm_until = time::now() + WARM_UP_MS * MS;
    let mut warm_ups = 0;
    while time::now() < warm_until {
        check(time::sleep(MS), "sleep");
        warm_ups += 1;
    }
    println!("sleeper: warmed up with {warm_ups} sleeps of 1 ms");
    let mut worst = 0;
    let mut in_time = true;
    for sleep in SLEEPS_MS.map(|ms| ms * MS) {
        let deadline = time::now() + sleep;
        check(time::sleep_until(deadline), "sleep");
        // When the timer's upcall ran (early if the hypervisor fired it
        // before the deadline), and when the sleep returned.
        let fired = time::last_timer_upcall() as i64 - deadline as i64;
        let late = time::now() as i64 - deadline as i64;
        println!(
            "sleeper: slept {} ms; the timer upcall came {fired} ns and the wake-up {late} ns after the deadline",
            sleep / MS
        );
        if fired < 0 || late as u64 > tolerance {
            in_time = false;
        }
        worst = worst.max(late);
    }
    // VIRQ_DOM_EXC says that some domain ended; two ends close together may
    // raise it once. Which spinners are gone is asked of the hypervisor.
    let spinners_gone = || (1..=spinners).all(|id| domain_gone(id as DomId));
    let deadline = time::now() + 30_000 * MS;
    if !check(sched::wait_until(deadline, spinners_gone), "wait") {
        println!("sleeper: the spinners did not end");
        sched::crash()
    }
    let idle = number(line, "idle_ms", 200) * MS;
    println!(
        "sleeper: both spinners ended; sleeping {} ms with nothing else to run",
        idle / MS
    );
    check(time::sleep(idle), "sleep");
    if !in_time {
        println!(
            "sleeper: a timer fired early or a wake-up came more than {} us late",
            tolerance / 1000
        );
        sched::crash()
    }
    println!(
        "sleeper: every wake-up in time (latest {} us after its deadline); timers passed",
        worst / 1000
    );
    sched::power_off()
}

fn spinner(line: &str) -> ! {
    let until = number(line, "until_ms", 2_000) * MS;
    let start = time::now();
    if start >= until {
        println!("spinner: started at {} ms, after the end of the interval", start / MS);
        sched::crash()
    }
    let mut iterations: u64 = 0;
    loop {
        iterations += 1;
        if iterations.is_multiple_of(1024) && time::now() >= until {
            break;
        }
    }
    println!(
        "spinner: {iterations} iterations from {} ms to {} ms",
        start / MS,
        time::now() / MS
    );
    sched::power_off()
}

fn blocker() -> ! {
    println!("blocker: blocking with nothing to wake for");
    loop {
        check(sched::wait_until(0, || false), "block");
    }
}

fn main(info: &'static StartInfo) -> ! {
    let line = command_line(info);
    check(upcall::start(info), "starting events");
    match parameter(line, "role") {
        Some("sleeper") => sleeper(line),
        Some("spinner") => spinner(line),
        Some("blocker") => blocker(),
        other => {
            println!("time_share: unknown role {other:?}");
            sched::crash()
        }
    }
}

guest_sdk::entry!(main);
