//! The console backend: a domU's console ring, mapped at a grant window,
//! drained into dom0's log as `[dN] line`.

use crate::CONSOLE_PORT;
use crate::wake::work;
use dom0_tools::console_backend::LineAssembler;
use guest_sdk::grant_table::{self, GrantError, Mapping};
use guest_sdk::shared_area::{self, AreaPage};
use guest_sdk::{event_channel, println, upcall};
use rings::byte_ring::{ByteConsumer, CONSOLE_OUT};
use xen_abi::event_channel::EvtchnPort;
use xen_abi::grant_table::GNTTAB_RESERVED_CONSOLE;

/// A domU's console, as served.
pub struct Console {
    domid: u16,
    window: usize,
    mapping: Mapping,
    port: EvtchnPort,
    lines: LineAssembler,
    /// The domU wrote a bad index: no longer read (said once).
    broken: bool,
}

impl Console {
    /// Maps `domid`'s console ring (grant entry 0) at `window` and binds its
    /// console port.
    pub fn connect(domid: u16, window: usize) -> Result<Console, GrantError> {
        let mapping = grant_table::map_in_window(window, domid, GNTTAB_RESERVED_CONSOLE, false)?;
        let port = event_channel::bind_interdomain(domid, CONSOLE_PORT)?;
        upcall::set_handler(port, work)?;
        println!("dom0: serving d{domid}'s console (window {window}, port {port})");
        Ok(Console {
            domid,
            window,
            mapping,
            port,
            lines: LineAssembler::default(),
            broken: false,
        })
    }

    /// Prints what the domU wrote, at most a pass's worth, and tells it the
    /// space is free again. True if the ring may hold more: dom0 must come
    /// round again (the domU will not signal for bytes it already wrote).
    pub fn drain(&mut self) -> bool {
        if self.broken {
            return false;
        }
        let page = AreaPage::new(shared_area::WINDOWS.start + self.window);
        let Ok(mut consumer) = ByteConsumer::attach(&page, CONSOLE_OUT) else {
            return false;
        };
        let domid = self.domid;
        let drained = self
            .lines
            .drain(|buffer| consumer.read(buffer), |line| println!("[d{domid}] {line}"));
        let more = match drained {
            Ok(more) => more,
            Err(error) => {
                // Said once: a domU must not be able to fill dom0's log
                // by corrupting its ring and signalling over and over.
                println!("dom0: d{domid}'s console ring is corrupt ({error:?}); no longer read");
                self.broken = true;
                return false;
            }
        };
        let _ = event_channel::send(self.port);
        more
    }

    /// The domain ended: its last bytes, then the mapping and the port go.
    pub fn close(mut self) {
        // Everything it left, still a pass's worth at a time.
        while self.drain() {}
        let domid = self.domid;
        self.lines.finish(|line| println!("[d{domid}] {line}"));
        let _ = grant_table::unmap(self.mapping);
        let _ = event_channel::close(self.port);
        println!("dom0: d{domid} ended; its console is closed");
    }
}
