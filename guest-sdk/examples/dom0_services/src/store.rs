//! xenstored in dom0: the library over each domU's xenstore ring (mapped
//! at a grant window from entry 1, signalled on port 1), and dom0's own
//! requests in process. Introducing a domain does what Xen's toolstack
//! does: its home `/local/domain/<id>`, owned by it, with `name`,
//! `domid`, its console's `console/ring-ref`, `console/port`, and its
//! balloon's `memory/static-max` and `memory/target` (KiB, as libxl writes
//! them).

use crate::STORE_PORT;
use crate::wake::work;
use alloc::format;
use alloc::vec::Vec;
use core::mem::offset_of;
use dom0_tools::xenstore::ring_server::{CorruptRing, RingServer, StoreRingIo};
use dom0_tools::xenstore::watches::ConnId;
use dom0_tools::xenstore::wire::Message;
use dom0_tools::xenstore::xenstored::Xenstored;
use guest_sdk::grant_table::{self, GrantError, Mapping};
use guest_sdk::shared_area::{self, AreaPage};
use guest_sdk::{event_channel, println, upcall};
use rings::byte_ring::{ByteConsumer, ByteProducer, XENSTORE_REQUESTS, XENSTORE_RESPONSES};
use rings::shared_memory::SharedMemory;
use xen_abi::event_channel::EvtchnPort;
use xen_abi::grant_table::{GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE};
use xen_abi::xs_wire::XsdSockmsgType;
use xen_abi::xs_wire::{XENSTORE_ERROR_PROTO, XenstoreDomainInterface};

/// A domU's xenstore connection, as served.
pub struct StoreRing {
    domid: u16,
    window: usize,
    mapping: Mapping,
    port: EvtchnPort,
    server: RingServer,
    broken: bool,
}

/// The xenstore page at a grant window, as [`RingServer`] uses it.
struct PageRing<'p>(&'p AreaPage);

impl StoreRingIo for PageRing<'_> {
    fn read_requests(&mut self, buffer: &mut [u8]) -> Result<usize, CorruptRing> {
        let mut requests = ByteConsumer::attach(self.0, XENSTORE_REQUESTS).map_err(|_| CorruptRing)?;
        requests.read(buffer).map_err(|_| CorruptRing)
    }

    fn write_responses(&mut self, bytes: &[u8]) -> Result<usize, CorruptRing> {
        let mut responses = ByteProducer::attach(self.0, XENSTORE_RESPONSES).map_err(|_| CorruptRing)?;
        responses.write(bytes).map_err(|_| CorruptRing)
    }
}

/// Pages libxl adds to a domain's maxmem for its `max_pages`
/// (`LIBXL_MAXMEM_CONSTANT`, 1 MiB).
const MAXMEM_SLACK_PAGES: u64 = 256;

/// Sets domain `domid`'s balloon target to `mib` MiB, as `xl mem-set` does.
pub fn set_target(xs: &mut Xenstored, dom0: ConnId, domid: u16, mib: u64) {
    let path = format!("/local/domain/{domid}/memory/target");
    let kib = format!("{}", mib * 1024);
    dom0_request(xs, dom0, XsdSockmsgType::Write, &[path.as_bytes(), kib.as_bytes()]);
    println!("dom0: d{domid}'s memory target is now {mib} MiB");
}

/// Makes a request of `xs` on dom0's connection `conn`; the reply. Watch
/// events for dom0 stay queued for `handle_events`.
pub fn dom0_request(xs: &mut Xenstored, conn: ConnId, kind: XsdSockmsgType, fields: &[&[u8]]) -> Message {
    xs.request(conn, kind, fields)
        .expect("dom0's connection is open for the whole run")
}

/// Introduces `domid` as a toolstack would, on dom0's connection `dom0`.
pub fn introduce(xs: &mut Xenstored, dom0: ConnId, domid: u16, name: &str) {
    let home = format!("/local/domain/{domid}");
    let owner = format!("n{domid}");
    let id = format!("{domid}");
    // As libxl: static-max is maxmem (max_pages less its 1 MiB of slack),
    // the target what the domain holds at its start.
    let kib = |pages: u64| format!("{}", pages * 4);
    let held = guest_sdk::memory::current_reservation(domid).unwrap_or(0);
    let max = guest_sdk::memory::maximum_reservation(domid).unwrap_or(0);
    let static_max = max.saturating_sub(MAXMEM_SLACK_PAGES).max(held);
    let requests: [(XsdSockmsgType, Vec<Vec<u8>>); 9] = [
        (XsdSockmsgType::Mkdir, alloc::vec![home.clone().into_bytes()]),
        (
            XsdSockmsgType::SetPerms,
            alloc::vec![home.clone().into_bytes(), owner.into_bytes()],
        ),
        (
            XsdSockmsgType::Write,
            alloc::vec![format!("{home}/name").into_bytes(), name.as_bytes().to_vec()],
        ),
        (
            XsdSockmsgType::Write,
            alloc::vec![format!("{home}/domid").into_bytes(), id.clone().into_bytes()],
        ),
        (
            XsdSockmsgType::Write,
            alloc::vec![
                format!("{home}/console/ring-ref").into_bytes(),
                format!("{GNTTAB_RESERVED_CONSOLE}").into_bytes()
            ],
        ),
        (
            XsdSockmsgType::Write,
            alloc::vec![
                format!("{home}/console/port").into_bytes(),
                format!("{}", crate::CONSOLE_PORT).into_bytes()
            ],
        ),
        (
            XsdSockmsgType::Write,
            alloc::vec![
                format!("{home}/memory/static-max").into_bytes(),
                kib(static_max).into_bytes()
            ],
        ),
        (
            XsdSockmsgType::Write,
            alloc::vec![format!("{home}/memory/target").into_bytes(), kib(held).into_bytes()],
        ),
        (
            XsdSockmsgType::Introduce,
            alloc::vec![
                id.into_bytes(),
                format!("{GNTTAB_RESERVED_XENSTORE}").into_bytes(),
                format!("{STORE_PORT}").into_bytes()
            ],
        ),
    ];
    for (kind, fields) in requests {
        let fields: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        let reply = dom0_request(xs, dom0, kind, &fields);
        if reply.header.kind == XsdSockmsgType::Error as u32 {
            println!("dom0: introducing d{domid}: {kind:?} failed: {:?}", reply.payload);
        }
    }
}

impl StoreRing {
    /// Maps `domid`'s xenstore ring (grant entry 1) at `window`, binds its
    /// store port and opens its connection.
    pub fn connect(xs: &mut Xenstored, domid: u16, window: usize) -> Result<StoreRing, GrantError> {
        let mapping = grant_table::map_in_window(window, domid, GNTTAB_RESERVED_XENSTORE, false)?;
        let port = event_channel::bind_interdomain(domid, STORE_PORT)?;
        upcall::set_handler(port, work)?;
        println!("dom0: serving d{domid}'s xenstore (window {window}, port {port})");
        Ok(StoreRing {
            domid,
            window,
            mapping,
            port,
            server: RingServer::new(xs.connect(domid, false)),
            broken: false,
        })
    }

    /// Takes the requests on the ring, answers them, puts what fits of the
    /// answers back, and signals the domU. True if requests may be left
    /// that no signal will announce: dom0 must come round again.
    pub fn serve(&mut self, xs: &mut Xenstored) -> bool {
        if self.broken {
            return false;
        }
        let page = AreaPage::new(shared_area::WINDOWS.start + self.window);
        let more = match self.server.serve(xs, &mut PageRing(&page)) {
            Ok(more) => more,
            Err(broken) => {
                self.break_ring(xs, &page, broken.why());
                return false;
            }
        };
        let _ = event_channel::send(self.port);
        more
    }

    /// The most output xenstored queued for this domU, in the bytes its
    /// quota counts.
    pub fn peak_queued(&self, xs: &Xenstored) -> usize {
        xs.peak_queued(self.server.conn())
    }

    /// The domU broke the protocol: its connection ends (the others go on),
    /// and the ring's error field says why, as Xen's xenstored does.
    fn break_ring(&mut self, xs: &mut Xenstored, page: &AreaPage, why: &str) {
        self.broken = true;
        xs.disconnect(self.server.conn());
        page.store(
            offset_of!(XenstoreDomainInterface, error) / 4,
            XENSTORE_ERROR_PROTO,
            core::sync::atomic::Ordering::Release,
        );
        println!(
            "dom0: d{}'s xenstore ring is broken ({why}); its connection is closed",
            self.domid
        );
        let _ = event_channel::send(self.port);
    }

    /// The domain ended: its connection and mapping go.
    pub fn close(self, xs: &mut Xenstored) {
        if !self.broken {
            let peak = self.peak_queued(xs);
            let quota = xs.quotas().queued_bytes;
            println!(
                "dom0: d{}'s xenstore output peaked at {peak} bytes (quota {quota})",
                self.domid
            );
            xs.disconnect(self.server.conn());
        }
        xs.domain_gone(self.domid);
        let _ = grant_table::unmap(self.mapping);
        let _ = event_channel::close(self.port);
    }
}
