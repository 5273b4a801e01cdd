//! The backend of `vdemo`, a demonstration split device: the frontend
//! grants a page holding a message and offers an event channel; the
//! backend maps the page, prints the message, binds the channel, and both
//! ends walk the xenbus handshake (`xen_abi::xenbus`) to Connected and back
//! to Closed, the backend unmapping before the frontend takes its grant
//! back.
//!
//! Like Xen's toolstack, dom0 creates both directories when it introduces
//! the domain: the frontend's `/local/domain/<id>/device/vdemo/0`, owned
//! by the domU, and the backend's `/local/domain/0/backend/vdemo/<id>/0`,
//! readable by it, each naming the other.

use crate::store::dom0_request;
use crate::wake::work;
use alloc::format;
use alloc::string::String;
use dom0_tools::xenstore::watches::ConnId;
use dom0_tools::xenstore::xenstored::Xenstored;
use guest_sdk::grant_table::{self, Mapping};
use guest_sdk::{event_channel, println, upcall};
use xen_abi::event_channel::EvtchnPort;
use xen_abi::xenbus::{Step, XenbusState, backend_step};
use xen_abi::xs_wire::XsdSockmsgType;

/// A domU's vdemo device, from the backend's side.
pub struct Vdemo {
    domid: u16,
    window: usize,
    frontend: String,
    backend: String,
    state: XenbusState,
    mapping: Option<Mapping>,
    port: Option<EvtchnPort>,
}

/// Writes `value` at `path` on dom0's connection.
fn write(xs: &mut Xenstored, dom0: ConnId, path: &str, value: &str) {
    dom0_request(xs, dom0, XsdSockmsgType::Write, &[path.as_bytes(), value.as_bytes()]);
}

/// Reads `path` on dom0's connection; `None` if it fails.
fn read(xs: &mut Xenstored, dom0: ConnId, path: &str) -> Option<String> {
    let reply = dom0_request(xs, dom0, XsdSockmsgType::Read, &[path.as_bytes()]);
    (reply.header.kind == XsdSockmsgType::Read as u32).then(|| String::from_utf8_lossy(&reply.payload).into_owned())
}

impl Vdemo {
    /// Creates both directories, as a toolstack does, and watches the
    /// frontend's state; the device uses grant window `window`.
    pub fn create(xs: &mut Xenstored, dom0: ConnId, domid: u16, window: usize) -> Vdemo {
        let frontend = format!("/local/domain/{domid}/device/vdemo/0");
        let backend = format!("/local/domain/0/backend/vdemo/{domid}/0");
        for (dir, other, other_id) in [(&frontend, &backend, "0"), (&backend, &frontend, &*format!("{domid}"))] {
            let (link, id_key) = if dir == &frontend {
                ("backend", "backend-id")
            } else {
                ("frontend", "frontend-id")
            };
            write(xs, dom0, &format!("{dir}/{link}"), other);
            write(xs, dom0, &format!("{dir}/{id_key}"), other_id);
            write(xs, dom0, &format!("{dir}/state"), XenbusState::Initialising.text());
        }
        let owner = format!("n{domid}");
        let reader = format!("r{domid}");
        dom0_request(
            xs,
            dom0,
            XsdSockmsgType::SetPerms,
            &[frontend.as_bytes(), owner.as_bytes()],
        );
        for path in [
            format!("{frontend}/backend"),
            format!("{frontend}/backend-id"),
            format!("{frontend}/state"),
        ] {
            dom0_request(xs, dom0, XsdSockmsgType::SetPerms, &[path.as_bytes(), owner.as_bytes()]);
        }
        for path in [
            backend.clone(),
            format!("{backend}/state"),
            format!("{backend}/frontend"),
        ] {
            dom0_request(
                xs,
                dom0,
                XsdSockmsgType::SetPerms,
                &[path.as_bytes(), b"n0", reader.as_bytes()],
            );
        }
        let token = format!("vdemo{domid}");
        dom0_request(
            xs,
            dom0,
            XsdSockmsgType::Watch,
            &[format!("{frontend}/state").as_bytes(), token.as_bytes()],
        );
        let mut device = Vdemo {
            domid,
            window,
            frontend,
            backend,
            state: XenbusState::Initialising,
            mapping: None,
            port: None,
        };
        // Publish the features now; later steps follow the watch.
        device.step(xs, dom0);
        device
    }

    fn set_state(&mut self, xs: &mut Xenstored, dom0: ConnId, state: XenbusState) {
        self.state = state;
        write(xs, dom0, &format!("{}/state", self.backend), state.text());
    }

    /// Takes the handshake's next steps, as far as both states allow.
    pub fn step(&mut self, xs: &mut Xenstored, dom0: ConnId) {
        for _ in 0..4 {
            let front = read(xs, dom0, &format!("{}/state", self.frontend))
                .and_then(|text| XenbusState::parse(text.as_bytes()))
                .unwrap_or(XenbusState::Unknown);
            match backend_step(self.state, front) {
                Step::Wait | Step::PublishRing => return,
                Step::PublishFeatures => {
                    write(xs, dom0, &format!("{}/feature-demo", self.backend), "1");
                    self.set_state(xs, dom0, XenbusState::InitWait);
                }
                Step::Connect => self.connect(xs, dom0),
                Step::Close => self.set_state(xs, dom0, XenbusState::Closing),
                Step::Finish => {
                    self.release();
                    println!("dom0: vdemo d{}: closed, the page unmapped", self.domid);
                    self.set_state(xs, dom0, XenbusState::Closed);
                }
            }
        }
    }

    /// Unmaps the frontend's page and closes its channel, if they are held.
    fn release(&mut self) {
        if let Some(mapping) = self.mapping.take() {
            let _ = grant_table::unmap(mapping);
        }
        if let Some(port) = self.port.take() {
            let _ = event_channel::close(port);
        }
    }

    /// The domain ended: what the device held goes, and both directories,
    /// as a toolstack cleans up.
    pub fn close(mut self, xs: &mut Xenstored, dom0: ConnId) {
        self.release();
        for dir in [&self.frontend, &self.backend] {
            dom0_request(xs, dom0, XsdSockmsgType::Rm, &[dir.as_bytes()]);
        }
    }

    /// Maps the frontend's page, prints its message, binds its channel.
    fn connect(&mut self, xs: &mut Xenstored, dom0: ConnId) {
        let number = |key: &str, xs: &mut Xenstored| {
            read(xs, dom0, &format!("{}/{key}", self.frontend)).and_then(|text| text.parse::<u32>().ok())
        };
        let (Some(gref), Some(remote_port)) = (number("ring-ref", xs), number("event-channel", xs)) else {
            println!(
                "dom0: vdemo d{}: the frontend published no ring-ref or event-channel",
                self.domid
            );
            self.set_state(xs, dom0, XenbusState::Closing);
            return;
        };
        let mapping = match grant_table::map_in_window(self.window, self.domid, gref, true) {
            Ok(mapping) => mapping,
            Err(error) => {
                println!("dom0: vdemo d{}: cannot map reference {gref}: {error}", self.domid);
                self.set_state(xs, dom0, XenbusState::Closing);
                return;
            }
        };
        let mut text = [0u8; 48];
        grant_table::read_in_window(self.window, 0, &mut text);
        let end = text.iter().position(|&byte| byte == 0).unwrap_or(text.len());
        let message = core::str::from_utf8(&text[..end]).unwrap_or("?");
        println!(
            "dom0: vdemo d{}: connected; the shared page says {message:?}",
            self.domid
        );
        self.mapping = Some(mapping);
        match event_channel::bind_interdomain(self.domid, remote_port) {
            Ok(port) => {
                let _ = upcall::set_handler(port, work);
                let _ = event_channel::send(port);
                self.port = Some(port);
            }
            Err(error) => println!("dom0: vdemo d{}: cannot bind port {remote_port}: {error}", self.domid),
        }
        self.set_state(xs, dom0, XenbusState::Connected);
    }
}
