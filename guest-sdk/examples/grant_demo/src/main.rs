//! Grant tables end to end, with a domU that misbehaves a little. One
//! image, two roles (`role=` on the command line):
//!
//! - `granter` (d1) writes a message in a page of its own, grants dom0
//!   read-only access to it (the first free entry, 8) and offers dom0 an
//!   event channel (its first own port, 3). While dom0 has the page mapped it
//!   tries to revoke the grant, which must fail; after dom0 unmaps, it must
//!   succeed.
//! - `mapper` (dom0) first tries what a backend must survive: a reference
//!   beyond the table, an empty entry, a writable mapping of a read-only
//!   grant. Each must be refused with its status. Then it maps the grant,
//!   reads the message, and unmaps it. It powers off (success) when every
//!   step went as it should and the granter has ended.
//!
//! Until xenstore (issue 7) carries them, the reference and the port are
//! agreed in advance. Each side's handler counts the other's signals.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering::SeqCst};
use guest_sdk::grant_table::{self, GrantError};
use guest_sdk::page_table::{MmuBackend, boot_manager};
use guest_sdk::shared_info::SHARED_INFO;
use guest_sdk::start_info::{StartInfo, command_line, parameter};
use guest_sdk::{event_channel, println, sched, upcall};
use xen_abi::errno::Errno;
use xen_abi::event_channel::{EvtchnPort, VIRQ_DOM_EXC};
use xen_abi::grant_table::{GNTST_BAD_GNTREF, GNTST_GENERAL_ERROR};

/// The granter's domain id, the reference it grants and its port.
const GRANTER: u16 = 1;
const GREF: u32 = 8;
const PORT: EvtchnPort = event_channel::FIRST_DOMU_PORT;
/// The message in the granted page.
const MESSAGE: &[u8; 32] = b"hello from d1 through a grant!!\n";

/// Signals received from the other side.
static SIGNALS: AtomicU32 = AtomicU32::new(0);

/// The value of a step, or a crash that says which step failed.
fn check<T, E: core::fmt::Display>(result: Result<T, E>, step: &str) -> T {
    result.unwrap_or_else(|error| {
        println!("grant_demo: {step} failed: {error}");
        sched::crash()
    })
}

/// Counts a signal from the other side.
fn signalled(_port: EvtchnPort) {
    SIGNALS.fetch_add(1, SeqCst);
}

/// Waits until the other side has signalled `count` times.
fn wait_for(count: u32) {
    let deadline = guest_sdk::time::now() + 5_000_000_000;
    if !check(sched::wait_until(deadline, || SIGNALS.load(SeqCst) >= count), "wait") {
        println!("grant_demo: no signal {count} within 5 s");
        sched::crash()
    }
}

fn granter(info: &'static StartInfo) -> ! {
    check(grant_table::start(), "grant table setup");
    let mut pages = boot_manager(info);
    let page = check(pages.allocate_frame(), "a page to share");
    for (index, chunk) in MESSAGE.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        pages.backend().write_u64(page.va + index as u64 * 8, word);
    }
    let gref = check(grant_table::grant_access(0, page.mfn, true), "grant");
    let port = check(event_channel::alloc_unbound(0), "alloc_unbound");
    if (gref, port) != (GREF, PORT) {
        println!("granter: got reference {gref} and port {port}, dom0 expects {GREF} and {PORT}");
        sched::crash()
    }
    check(upcall::set_handler(port, signalled), "handler");
    println!(
        "granter: page {:#x} granted read-only to dom0 as reference {gref}",
        page.mfn
    );
    wait_for(1);
    match grant_table::end_access(gref) {
        Err(GrantError::InUse) => println!("granter: revoking while dom0 maps it: refused (in use)"),
        other => {
            println!("granter: revoking a mapped grant gave {other:?}");
            sched::crash()
        }
    }
    check(event_channel::send(port), "send");
    wait_for(2);
    check(grant_table::end_access(gref), "revoking after the unmap");
    println!("granter: revoked after dom0 unmapped");
    check(event_channel::send(port), "send");
    sched::power_off()
}

/// `result` must be the grant status `expected`.
fn refused<T: core::fmt::Debug>(result: Result<T, GrantError>, expected: i16, what: &str) {
    match result {
        Err(GrantError::Status(status)) if status == expected => {
            println!("mapper: {what}: refused ({})", grant_table::status_name(status));
        }
        other => {
            println!("mapper: {what}: expected status {expected}, got {other:?}");
            sched::crash()
        }
    }
}

fn mapper() -> ! {
    // Woken when the granter ends, to see it gone before powering off.
    let dom_exc = check(event_channel::bind_virq(VIRQ_DOM_EXC), "bind VIRQ_DOM_EXC");
    check(upcall::set_handler(dom_exc, |_| {}), "VIRQ_DOM_EXC handler");
    let port = connect();
    check(upcall::set_handler(port, signalled), "handler");
    refused(
        grant_table::map(GRANTER, 4096, true),
        GNTST_BAD_GNTREF,
        "a reference beyond the table",
    );
    refused(
        grant_table::map(GRANTER, GREF + 1, true),
        GNTST_GENERAL_ERROR,
        "an empty entry",
    );
    refused(
        grant_table::map(GRANTER, GREF, false),
        GNTST_GENERAL_ERROR,
        "a writable map of a read-only grant",
    );
    let mapping = check(grant_table::map(GRANTER, GREF, true), "mapping the grant");
    let mut text = [0u8; 32];
    grant_table::read_window(0, &mut text);
    if &text != MESSAGE {
        println!("mapper: the mapped page holds {text:?}");
        sched::crash()
    }
    println!(
        "mapper: mapped d1's reference {GREF} and read: {}",
        core::str::from_utf8(&text).unwrap_or("?").trim_end()
    );
    check(event_channel::send(port), "send");
    wait_for(1);
    check(grant_table::unmap(mapping), "unmapping");
    println!("mapper: unmapped");
    check(event_channel::send(port), "send");
    wait_for(2);
    let deadline = guest_sdk::time::now() + 5_000_000_000;
    let gone = || matches!(event_channel::status(GRANTER, 0), Err(error) if error.code == Errno::ESRCH.as_return());
    if !check(sched::wait_until(deadline, gone), "wait") {
        println!("mapper: the granter did not end");
        sched::crash()
    }
    println!("mapper: grant demo passed");
    sched::power_off()
}

/// Binds to the granter's port once it is offered, clearing the event the
/// bind raises.
fn connect() -> EvtchnPort {
    for _ in 0..10_000 {
        match event_channel::bind_interdomain(GRANTER, PORT) {
            Ok(port) => {
                SHARED_INFO.clear_pending(port);
                return port;
            }
            Err(_) => check(sched::yield_now(), "yield"),
        }
    }
    println!("mapper: d1 never offered port {PORT}");
    sched::crash()
}

fn main(info: &'static StartInfo) -> ! {
    let line = command_line(info);
    check(upcall::start(info), "starting events");
    match parameter(line, "role") {
        Some("granter") => granter(info),
        Some("mapper") => mapper(),
        other => {
            println!("grant_demo: unknown role {other:?}");
            sched::crash()
        }
    }
}

guest_sdk::entry!(main);
