//! dom0's services: xenstored and the console backend, for every domU.
//!
//! At boot dom0 finds the domUs, introduces each to xenstored as a
//! toolstack would, and serves its console ring and xenstore ring (both
//! granted to dom0 by the builder). For the xenstore round trip it also
//! watches each domU's `data/request` and answers in `data/response`.
//! When a domU ends (VIRQ_DOM_EXC) its rings are closed; when none is
//! left, dom0 powers off. With `balloon=<domid>:<MiB>,...` on its command
//! line it sets those domains' memory targets once they are introduced, as
//! `xl mem-set` would.
#![no_std]
#![no_main]

extern crate alloc;

mod console;
mod store;
mod vdemo;
mod wake;

use alloc::format;
use console::Console;
use core::sync::atomic::Ordering::SeqCst;
use dom0_tools::xenstore::watches::ConnId;
use dom0_tools::xenstore::wire::fields;
use dom0_tools::xenstore::xenstored::{Quotas, Xenstored};
use guest_sdk::start_info::{StartInfo, command_line, parameter};
use guest_sdk::{event_channel, println, sched, upcall};
use store::{StoreRing, dom0_request, introduce, set_target};
use vdemo::Vdemo;
use wake::{WORK, work};
use xen_abi::domain_builder::MAX_DOMAINS;
use xen_abi::errno::Errno;
use xen_abi::event_channel::VIRQ_DOM_EXC;
use xen_abi::xs_wire::XsdSockmsgType;

/// Domain ids looked at: as many as xen-core holds.
const MAX_DOMID: u16 = MAX_DOMAINS as u16 - 1;
// The ports the builder offers dom0 in every domU.
pub use xen_abi::domain_builder::{CONSOLE_PORT, STORE_PORT};
/// DomUs served: each takes three grant windows of sixteen.
const MAX_SERVED: usize = 4;

/// Whether domain `domid` exists (status of its port 0 gives ESRCH if not).
fn exists(domid: u16) -> bool {
    !matches!(event_channel::status(domid, 0), Err(error) if error.code == Errno::ESRCH.as_return())
}

/// A domU, its rings and its device.
struct Served {
    domid: u16,
    console: Option<Console>,
    store: Option<StoreRing>,
    vdemo: Vdemo,
}

/// The value of a step, or a crash that says which step failed.
fn check<T, E: core::fmt::Display>(result: Result<T, E>, step: &str) -> T {
    result.unwrap_or_else(|error| {
        println!("dom0: {step} failed: {error}");
        sched::crash()
    })
}

/// dom0's watch events on its own connection: a domU's `data/request`
/// gets a `data/response` quoting it; a `vdemoN` event means domain N's
/// device state changed, and N is returned for its backend to step.
fn handle_events(xs: &mut Xenstored, dom0: ConnId) -> alloc::vec::Vec<u16> {
    // Every event is handled (dom0's own queue is bounded by xenstored):
    // one domU's flood must not crowd out another's requests.
    let mut requests = alloc::vec::Vec::<alloc::string::String>::new();
    let mut devices = alloc::vec::Vec::<u16>::new();
    while let Some(event) = xs.take_output(dom0) {
        if event.header.kind != XsdSockmsgType::WatchEvent as u32 {
            continue;
        }
        let parts = fields(&event.payload);
        let (Some(path), Some(token)) = (parts.first(), parts.get(1)) else {
            continue;
        };
        if *token == b"request" {
            if let Ok(path) = core::str::from_utf8(path) {
                requests.push(alloc::string::String::from(path));
            }
        } else if let Some(domid) = token
            .strip_prefix(b"vdemo")
            .and_then(|id| core::str::from_utf8(id).ok()?.parse().ok())
            && !devices.contains(&domid)
        {
            devices.push(domid);
        }
    }
    for path in requests {
        let read = dom0_request(xs, dom0, XsdSockmsgType::Read, &[path.as_bytes()]);
        if read.header.kind != XsdSockmsgType::Read as u32 {
            continue; // the watch's first event, before the node exists
        }
        let Some(home) = path.strip_suffix("/data/request") else {
            continue;
        };
        let text = core::str::from_utf8(&read.payload).unwrap_or("?");
        println!("dom0: {path} = {text:?}");
        let answer = format!("dom0 saw {text}");
        let response = format!("{home}/data/response");
        dom0_request(
            xs,
            dom0,
            XsdSockmsgType::Write,
            &[response.as_bytes(), answer.as_bytes()],
        );
    }
    devices
}

fn main(info: &'static StartInfo) -> ! {
    check(upcall::start(info), "starting events");
    let dom_exc = check(event_channel::bind_virq(VIRQ_DOM_EXC), "binding VIRQ_DOM_EXC");
    check(upcall::set_handler(dom_exc, work), "VIRQ_DOM_EXC handler");
    let mut xs = Xenstored::new(Quotas::default());
    let dom0 = xs.connect(0, true);
    let mut served: heapless::Vec<Served, MAX_SERVED> = heapless::Vec::new();
    for domid in 1..=MAX_DOMID {
        if !exists(domid) || served.len() == MAX_SERVED {
            continue;
        }
        let index = served.len();
        introduce(&mut xs, dom0, domid, &format!("d{domid}"));
        let watch = format!("/local/domain/{domid}/data/request");
        dom0_request(&mut xs, dom0, XsdSockmsgType::Watch, &[watch.as_bytes(), b"request"]);
        // The store first: a domU may print and end as soon as its console
        // is connected.
        let store = StoreRing::connect(&mut xs, domid, MAX_SERVED + index)
            .map_err(|error| println!("dom0: d{domid}'s xenstore not served: {error}"))
            .ok();
        let console = Console::connect(domid, index)
            .map_err(|error| println!("dom0: d{domid}'s console not served: {error}"))
            .ok();
        let vdemo = Vdemo::create(&mut xs, dom0, domid, 2 * MAX_SERVED + index);
        let _ = served.push(Served {
            domid,
            console,
            store,
            vdemo,
        });
    }
    for (domid, mib) in parameter(command_line(info), "balloon")
        .unwrap_or("")
        .split(',')
        .filter_map(|pair| pair.split_once(':'))
        .filter_map(|(domid, mib)| Some((domid.parse().ok()?, mib.parse().ok()?)))
    {
        set_target(&mut xs, dom0, domid, mib);
    }
    // A domU may have written to a ring and signalled before dom0 bound the
    // port, and that signal went nowhere: look at every ring once anyway.
    WORK.store(true, SeqCst);
    while !served.is_empty() {
        check(sched::wait_until(0, || WORK.swap(false, SeqCst)), "waiting");
        // Each ring gets a bounded pass; one with work left brings dom0
        // round again, after the others had theirs.
        let mut again = false;
        for domain in served.iter_mut() {
            if let Some(console) = domain.console.as_mut() {
                again |= console.drain();
            }
            if let Some(store) = domain.store.as_mut() {
                again |= store.serve(&mut xs);
            }
        }
        let devices = handle_events(&mut xs, dom0);
        for domain in served.iter_mut().filter(|domain| devices.contains(&domain.domid)) {
            domain.vdemo.step(&mut xs, dom0);
        }
        // Replies to what dom0 just wrote may wait on the domUs' rings.
        for domain in served.iter_mut() {
            if let Some(store) = domain.store.as_mut() {
                again |= store.serve(&mut xs);
            }
        }
        let mut index = 0;
        while index < served.len() {
            if exists(served[index].domid) {
                index += 1;
                continue;
            }
            let domain = served.swap_remove(index);
            domain.vdemo.close(&mut xs, dom0);
            if let Some(store) = domain.store {
                store.close(&mut xs);
            }
            if let Some(console) = domain.console {
                console.close();
            }
        }
        // Events for dom0 queued since `handle_events` (a domU's request
        // taken in the second pass, dom0's own clean-up of a dead domain)
        // have no signal left to wake dom0: go round again.
        if again || xs.has_output(dom0) {
            WORK.store(true, SeqCst);
        }
    }
    println!("dom0: no domU left; powering off");
    sched::power_off()
}

guest_sdk::entry!(main);
