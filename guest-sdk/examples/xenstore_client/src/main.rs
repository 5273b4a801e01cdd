//! Xenstore from a domU, through dom0's xenstored. Two roles (`role=`):
//!
//! - `client` reads what dom0 wrote when it introduced the domain, writes
//!   and reads back its own nodes, is refused another domain's, runs a
//!   transaction, and does a watch round trip with dom0 twice: it writes
//!   `data/request` and waits for dom0's `data/response` through a watch.
//!   The second round comes after the hostile domain has broken its ring:
//!   dom0 must still serve this one. With `rounds=N` it does N round trips,
//!   50 ms apart after the second (beside a flooding domain).
//! - `bench` times xenstore read round trips.
//! - `xenbus` is the frontend of the `vdemo` split device (see
//!   `xenbus_frontend`); `xenbus-hostile` publishes a bogus one.
//! - `hostile` corrupts its console ring's producer index and signals
//!   dom0 a few times (dom0 must say so once and stop reading it), then
//!   writes a header announcing 5000 payload bytes on its xenstore ring:
//!   xenstored must close its connection, set the ring's error field, and
//!   go on serving the others.
//! - `flood` keeps its request ring full of small READs of a 2 KiB node
//!   for three seconds and never reads a reply: xenstored must stop taking
//!   its requests once its replies reach the output quota (the ring stays
//!   full) and go on serving the others.
#![no_std]
#![no_main]

use core::mem::{offset_of, size_of};
use core::sync::atomic::Ordering;
use guest_sdk::shared_area::{self, AreaPage};
use guest_sdk::start_info::{StartInfo, command_line, parameter};
use guest_sdk::{event_channel, println, sched, time, upcall, xenstore};
use rings::byte_ring::{ByteProducer, XENSTORE_REQUESTS};
use rings::shared_memory::SharedMemory;
use xen_abi::xs_wire::{XenstoreDomainInterface, XsdSockmsg, XsdSockmsgType};

const SECOND: u64 = 1_000_000_000;

/// The value of a step, or a crash that says which step failed.
fn check<T, E: core::fmt::Display>(result: Result<T, E>, step: &str) -> T {
    result.unwrap_or_else(|error| {
        println!("xenstore_client: {step} failed: {error}");
        sched::crash()
    })
}

/// Reads `path` as text into `buffer`.
fn read<'b>(path: &str, buffer: &'b mut [u8]) -> &'b str {
    let length = check(xenstore::read(path, buffer), path);
    core::str::from_utf8(&buffer[..length]).unwrap_or("?")
}

/// One watch round trip: write `data/request` ("ping N"), wait for dom0's
/// answer ("dom0 saw ping N").
fn round_trip(round: u32) {
    let mut request: heapless::String<16> = heapless::String::new();
    let _ = core::fmt::write(&mut request, format_args!("ping {round}"));
    let mut expected: heapless::String<32> = heapless::String::new();
    let _ = core::fmt::write(&mut expected, format_args!("dom0 saw {request}"));
    check(
        xenstore::write("data/request", request.as_bytes()),
        "writing data/request",
    );
    let deadline = time::now() + 10 * SECOND;
    loop {
        let Some(event) = check(xenstore::wait_for_watch(deadline), "waiting for the watch") else {
            println!("xenstore_client: no answer to {request} within 10 s");
            sched::crash()
        };
        if event.token.as_slice() != b"response" {
            continue;
        }
        let mut buffer = [0u8; 64];
        match xenstore::read("data/response", &mut buffer) {
            Ok(length) if &buffer[..length] == expected.as_bytes() => {
                println!("xenstore_client: round trip {round}: dom0 answered \"{expected}\"");
                return;
            }
            _ => {} // the watch's first event, or an older answer
        }
    }
}

fn client(info: &StartInfo) -> ! {
    let rounds: u32 = parameter(command_line(info), "rounds")
        .and_then(|text| text.parse().ok())
        .unwrap_or(2);
    let mut buffer = [0u8; 64];
    println!("xenstore_client: my name is {}", read("name", &mut buffer));
    let me: u16 = read("domid", &mut buffer).parse().unwrap_or(0);
    println!("xenstore_client: my domid is {me}");
    let other = if me == 2 { 1 } else { 2 };
    check(xenstore::write("data/greeting", b"hello xenstore"), "writing");
    println!(
        "xenstore_client: data/greeting reads back {:?}",
        read("data/greeting", &mut buffer)
    );
    let mut path: heapless::String<32> = heapless::String::new();
    let _ = core::fmt::write(&mut path, format_args!("/local/domain/{other}/name"));
    match xenstore::read(&path, &mut buffer) {
        Err(error) if error.is("EACCES") => println!("xenstore_client: another domain's node: refused (EACCES)"),
        other => {
            println!("xenstore_client: reading another domain's node gave {other:?}");
            sched::crash()
        }
    }
    let tx = check(xenstore::transaction_start(), "transaction start");
    let length = check(
        xenstore::read_in(tx, "data/greeting", &mut buffer),
        "read in transaction",
    );
    check(
        xenstore::write_in(tx, "data/copy", &buffer[..length]),
        "write in transaction",
    );
    check(xenstore::transaction_end(tx, true), "commit");
    println!(
        "xenstore_client: transaction committed; data/copy = {:?}",
        read("data/copy", &mut buffer)
    );
    check(xenstore::watch("data/response", "response"), "watch");
    round_trip(1);
    // Time for the hostile domain to break its ring; dom0 must still serve us.
    check(time::sleep(SECOND / 5), "sleep");
    round_trip(2);
    for round in 3..=rounds {
        check(time::sleep(SECOND / 20), "sleep");
        round_trip(round);
    }
    println!("xenstore_client: all passed");
    sched::power_off()
}

fn hostile(info: &StartInfo) -> ! {
    // First its console ring: an output producer index far past the
    // consumer's, then a few signals. dom0 must say so once and stop
    // reading that ring.
    let console = AreaPage::new(shared_area::CONSOLE_RING);
    console.store(
        rings::byte_ring::CONSOLE_OUT.prod_offset / 4,
        0x7fff_0000,
        Ordering::Release,
    );
    for _ in 0..3 {
        check(event_channel::send(info.console.domu().evtchn), "send");
        check(time::sleep(SECOND / 100), "sleep");
    }
    let page = AreaPage::new(shared_area::XENSTORE_RING);
    let mut producer = check(
        ByteProducer::attach(&page, XENSTORE_REQUESTS).map_err(|_| "no ring"),
        "attaching",
    );
    // A READ header announcing 5000 bytes: past the protocol's 4096.
    let mut header = [0u8; size_of::<XsdSockmsg>()];
    for (index, word) in [XsdSockmsgType::Read as u32, 1, 0, 5000].into_iter().enumerate() {
        header[index * 4..index * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    let _ = producer.write(&header);
    check(event_channel::send(info.store_evtchn), "send");
    let deadline = time::now() + 10 * SECOND;
    loop {
        let error = page.load(offset_of!(XenstoreDomainInterface, error) / 4, Ordering::Acquire);
        if error != 0 {
            // Through console_io: this domain broke its own console ring.
            let mut line: heapless::String<64> = heapless::String::new();
            let _ = core::fmt::write(
                &mut line,
                format_args!("hostile: xenstored closed my connection (ring error {error})\n"),
            );
            let _ = guest_sdk::hypercall::console_write(line.as_bytes());
            sched::power_off()
        }
        if time::now() >= deadline {
            let _ = guest_sdk::hypercall::console_write(b"hostile: xenstored never reacted\n");
            sched::crash()
        }
        check(time::sleep(SECOND / 100), "sleep");
    }
}

/// How long the flood lasts.
const FLOOD: u64 = 3 * SECOND;

/// Keeps the request ring full of READs of `data/big` (2 KiB) for
/// [`FLOOD`], never reading a reply, and says once when the ring has stayed
/// full for 200 ms: dom0 no longer takes its requests.
fn flood(info: &StartInfo) -> ! {
    check(xenstore::write("data/big", &[b'v'; 2048]), "writing data/big");
    let page = AreaPage::new(shared_area::XENSTORE_RING);
    let mut producer = check(
        ByteProducer::attach(&page, XENSTORE_REQUESTS).map_err(|_| "no ring"),
        "attaching",
    );
    const PATH: &[u8] = b"data/big\0";
    const REQUEST: usize = size_of::<XsdSockmsg>() + PATH.len();
    let size = XENSTORE_REQUESTS.size as usize;
    let (start, mut sent, mut full_since, mut said) = (time::now(), 0u32, None, false);
    while time::now() < start + FLOOD {
        while check(producer.unread().map_err(|_| "corrupt"), "ring") as usize + REQUEST <= size {
            let mut request = [0u8; REQUEST];
            // A 1000-based request id: clear of the ids the client library
            // used before, should dom0 ever mix them up.
            let header = [XsdSockmsgType::Read as u32, 1000 + sent, 0, PATH.len() as u32];
            for (index, word) in header.into_iter().enumerate() {
                request[index * 4..index * 4 + 4].copy_from_slice(&word.to_le_bytes());
            }
            request[size_of::<XsdSockmsg>()..].copy_from_slice(PATH);
            let _ = producer.write(&request);
            sent += 1;
            full_since = None;
        }
        let now = time::now();
        let since = *full_since.get_or_insert(now);
        if !said && now - since >= SECOND / 5 {
            println!("xenstore_client: flood: dom0 stopped taking my requests after {sent}");
            said = true;
        }
        check(event_channel::send(info.store_evtchn), "send");
        check(time::sleep(SECOND / 1000), "sleep");
    }
    println!("xenstore_client: flood: sent {sent} requests and read no reply");
    sched::power_off()
}

/// The `vdemo` frontend: grants a page holding a message, offers an event
/// channel, and walks the xenbus handshake with dom0's backend to
/// Connected and back to Closed, taking the grant back at the end.
fn xenbus_frontend(info: &'static StartInfo) -> ! {
    use guest_sdk::grant_table;
    use guest_sdk::page_table::{MmuBackend, boot_manager};
    use guest_sdk::xenbus::Frontend;
    use xen_abi::xenbus::{Step, XenbusState, frontend_step};
    check(grant_table::start(), "grant table setup");
    let mut pages = boot_manager(info);
    let page = check(pages.allocate_frame(), "a page");
    let message = *b"hello from the vdemo frontend";
    for (index, chunk) in message.chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        pages
            .backend()
            .write_u64(page.va + index as u64 * 8, u64::from_le_bytes(word));
    }
    let gref = check(grant_table::grant_access(0, page.mfn, true), "grant");
    let port = check(event_channel::alloc_unbound(0), "alloc_unbound");
    let device = check(Frontend::open("device/vdemo/0", "vdemo"), "opening device/vdemo/0");
    let deadline = time::now() + 10 * SECOND;
    let mut own = XenbusState::Initialising;
    let mut closing = false;
    loop {
        let backend = check(device.backend_state(), "reading the backend's state");
        match frontend_step(own, backend) {
            Step::PublishRing => {
                let mut text: heapless::String<12> = heapless::String::new();
                let _ = core::fmt::write(&mut text, format_args!("{gref}"));
                check(device.publish("ring-ref", &text), "ring-ref");
                text.clear();
                let _ = core::fmt::write(&mut text, format_args!("{port}"));
                check(device.publish("event-channel", &text), "event-channel");
                own = XenbusState::Initialised;
            }
            Step::Connect => {
                own = XenbusState::Connected;
                println!("xenbus: connected to the backend");
            }
            Step::Close => own = XenbusState::Closing,
            Step::Finish => {
                check(grant_table::end_access(gref), "revoking the grant");
                check(device.set_state(XenbusState::Closed), "state");
                println!("xenbus: closed; the backend unmapped and the grant is revoked");
                sched::power_off()
            }
            Step::Wait | Step::PublishFeatures => {
                if own == XenbusState::Connected && !closing {
                    // Connected: now close, as a device being removed.
                    closing = true;
                    own = XenbusState::Closing;
                } else {
                    let waited = check(
                        device.wait_for_backend(deadline, |state| state != backend),
                        "waiting for the backend",
                    );
                    if waited.is_none() {
                        println!("xenbus: the backend stayed {backend:?}");
                        sched::crash()
                    }
                    continue;
                }
            }
        }
        check(device.set_state(own), "state");
    }
}

/// A `vdemo` frontend that publishes a reference it never granted and a
/// port it never offered: dom0's backend must refuse to connect (and
/// close the device) without harm to itself or the other domains.
fn xenbus_hostile() -> ! {
    use guest_sdk::xenbus::Frontend;
    use xen_abi::xenbus::XenbusState;
    let device = check(Frontend::open("device/vdemo/0", "vdemo"), "opening device/vdemo/0");
    check(device.publish("ring-ref", "9999"), "ring-ref");
    check(device.publish("event-channel", "77"), "event-channel");
    check(device.set_state(XenbusState::Initialised), "state");
    let deadline = time::now() + 10 * SECOND;
    let state = check(
        device.wait_for_backend(deadline, |state| state >= XenbusState::Closing),
        "waiting for the backend",
    );
    println!("xenbus-hostile: the backend answered a bogus ring-ref with {state:?}");
    sched::power_off()
}

/// Reads per measurement.
const READS: u64 = 200;

/// The cost of a xenstore read round trip: the request on the ring, dom0's
/// xenstored answering, the reply back. In `rdtsc` ticks, which under QEMU's
/// `-icount shift=0` are instructions (of every domain and the hypervisor).
fn bench() -> ! {
    let mut buffer = [0u8; 64];
    // Once outside the timing: the first read runs cold code.
    read("name", &mut buffer);
    let start = time::rdtsc();
    for _ in 0..READS {
        check(xenstore::read("name", &mut buffer), "read");
    }
    let ticks = (time::rdtsc() - start) / READS;
    println!("bench xenstore_read: {ticks} per read");
    sched::power_off()
}

fn main(info: &'static StartInfo) -> ! {
    check(upcall::start(info), "starting events");
    check(xenstore::start(info), "starting xenstore");
    match parameter(command_line(info), "role") {
        Some("client") => client(info),
        Some("flood") => flood(info),
        Some("hostile") => hostile(info),
        Some("bench") => bench(),
        Some("xenbus") => xenbus_frontend(info),
        Some("xenbus-hostile") => xenbus_hostile(),
        other => {
            println!("xenstore_client: unknown role {other:?}");
            sched::crash()
        }
    }
}

guest_sdk::entry!(main);
