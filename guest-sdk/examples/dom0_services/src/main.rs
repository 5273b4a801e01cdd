//! dom0's services. For now the console backend: it serves every domU's
//! PV console, printing each line in dom0's log as `[dN] line`.
//!
//! For each domU it maps the console ring the builder granted to dom0
//! (reserved grant entry 0) at a grant window, binds the console port the
//! builder offered (2), and drains the ring whenever that port fires. When
//! a domU ends (VIRQ_DOM_EXC) its last bytes are printed and its window
//! unmapped; when none is left, dom0 powers off.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, Ordering::SeqCst};
use dom0_tools::console_backend::LineAssembler;
use guest_sdk::grant_table::{self, Mapping};
use guest_sdk::shared_area::{self, AreaPage};
use guest_sdk::start_info::StartInfo;
use guest_sdk::{XenError, event_channel, println, sched, upcall};
use rings::byte_ring::{ByteConsumer, CONSOLE_OUT};
use xen_abi::errno::Errno;
use xen_abi::event_channel::{EvtchnPort, VIRQ_DOM_EXC};
use xen_abi::grant_table::GNTTAB_RESERVED_CONSOLE;

/// Domain ids looked at: xen-core has at most 8 domains.
const MAX_DOMID: u16 = 7;
/// The console port the builder offers dom0 in every domU.
const CONSOLE_PORT: EvtchnPort = 2;

/// Set by any console port or VIRQ_DOM_EXC: the main loop has work. It
/// then drains every console (a handful) and looks for ended domains.
static WORK: AtomicBool = AtomicBool::new(false);

/// A domU's console, as served.
struct Console {
    domid: u16,
    window: usize,
    mapping: Mapping,
    port: EvtchnPort,
    lines: LineAssembler,
}

/// Whether domain `domid` exists (status of its port 0 gives ESRCH if not).
fn exists(domid: u16) -> bool {
    !matches!(event_channel::status(domid, 0), Err(error) if error.code == Errno::ESRCH.as_return())
}

/// The value of a step, or a crash that says which step failed.
fn check<T, E: core::fmt::Display>(result: Result<T, E>, step: &str) -> T {
    result.unwrap_or_else(|error| {
        println!("dom0: {step} failed: {error}");
        sched::crash()
    })
}

/// The handler of every port dom0 serves: wake the main loop.
fn work(_port: EvtchnPort) {
    WORK.store(true, SeqCst);
}

fn connect(domid: u16, window: usize) -> Result<Console, XenError> {
    let mapping = grant_table::map_in_window(window, domid, GNTTAB_RESERVED_CONSOLE, false).map_err(|error| {
        println!("dom0: cannot map d{domid}'s console: {error}");
        XenError {
            code: Errno::EINVAL.as_return(),
        }
    })?;
    let port = event_channel::bind_interdomain(domid, CONSOLE_PORT)?;
    upcall::set_handler(port, work)?;
    println!("dom0: serving d{domid}'s console (window {window}, port {port})");
    Ok(Console {
        domid,
        window,
        mapping,
        port,
        lines: LineAssembler::default(),
    })
}

/// Prints what the domU wrote and tells it the space is free again.
fn drain(console: &mut Console) {
    let page = AreaPage::new(shared_area::WINDOWS.start + console.window);
    let Ok(mut consumer) = ByteConsumer::attach(&page, CONSOLE_OUT) else {
        return;
    };
    let mut buffer = [0u8; 256];
    let domid = console.domid;
    loop {
        match consumer.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => console
                .lines
                .push(&buffer[..count], |line| println!("[d{domid}] {line}")),
            Err(error) => {
                println!("dom0: d{domid}'s console ring is corrupt ({error:?}); no longer served");
                break;
            }
        }
    }
    let _ = event_channel::send(console.port);
}

fn main(info: &'static StartInfo) -> ! {
    check(upcall::start(info), "starting events");
    let dom_exc = check(event_channel::bind_virq(VIRQ_DOM_EXC), "binding VIRQ_DOM_EXC");
    check(upcall::set_handler(dom_exc, work), "VIRQ_DOM_EXC handler");
    let mut consoles: heapless::Vec<Console, 8> = heapless::Vec::new();
    for domid in 1..=MAX_DOMID {
        if exists(domid) && consoles.len() < grant_table::WINDOWS {
            match connect(domid, consoles.len()) {
                Ok(console) => {
                    let _ = consoles.push(console);
                }
                Err(error) => println!("dom0: d{domid}'s console not served: {error}"),
            }
        }
    }
    while !consoles.is_empty() {
        check(sched::wait_until(0, || WORK.swap(false, SeqCst)), "waiting");
        for console in consoles.iter_mut() {
            drain(console);
        }
        // Domains that ended: their last lines, then their window.
        let mut index = 0;
        while index < consoles.len() {
            if exists(consoles[index].domid) {
                index += 1;
                continue;
            }
            let mut console = consoles.swap_remove(index);
            drain(&mut console);
            let domid = console.domid;
            console.lines.finish(|line| println!("[d{domid}] {line}"));
            let _ = grant_table::unmap(console.mapping);
            let _ = event_channel::close(console.port);
            println!("dom0: d{domid} ended; its console is closed");
        }
    }
    println!("dom0: no domU left; powering off");
    sched::power_off()
}

guest_sdk::entry!(main);
