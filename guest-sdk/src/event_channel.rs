//! Event channels: binding ports and notifying through them.
//!
//! Thin, typed wrappers over `event_channel_op`; each returns the port the
//! hypervisor chose or the errno it refused with. Handlers that run when a
//! port fires are [`crate::upcall::set_handler`]; waiting for a port is
//! [`crate::sched::poll`] or [`crate::sched::wait_until`].

use crate::XenError;
use crate::hypercall::raw;
use xen_abi::event_channel::*;
use xen_abi::hypercall::EVENT_CHANNEL_OP;
use xen_abi::mmu::{DOMID_SELF, DomId};
use zerocopy::{Immutable, IntoBytes};

/// The first port a xen-core boot-time domU allocates itself: the builder
/// has offered ports 1 (xenstore) and 2 (console) to dom0 already, as
/// start_info's `store_evtchn` and console `evtchn` say. Until xenstore
/// carries port numbers, peers agree on ports counted from here.
pub const FIRST_DOMU_PORT: EvtchnPort = 3;

/// Runs `command` on `op`, which the hypervisor reads and may write back.
fn op<T: IntoBytes + Immutable>(command: u32, op: &mut T) -> Result<(), XenError> {
    let address = op as *mut T as u64;
    XenError::check(raw(EVENT_CHANNEL_OP, [u64::from(command), address, 0, 0, 0])).map(drop)
}

/// Binds `virq` on vCPU 0; the new port.
pub fn bind_virq(virq: u32) -> Result<EvtchnPort, XenError> {
    let mut bind = EvtchnBindVirq { virq, vcpu: 0, port: 0 };
    op(EVTCHNOP_BIND_VIRQ, &mut bind).map(|_| bind.port)
}

/// Offers a new port of ours to domain `remote`; the port.
pub fn alloc_unbound(remote: DomId) -> Result<EvtchnPort, XenError> {
    let mut alloc = EvtchnAllocUnbound {
        dom: DOMID_SELF,
        remote_dom: remote,
        port: 0,
    };
    op(EVTCHNOP_ALLOC_UNBOUND, &mut alloc).map(|_| alloc.port)
}

/// Connects to `remote_port`, which domain `remote` offered us; our port.
pub fn bind_interdomain(remote: DomId, remote_port: EvtchnPort) -> Result<EvtchnPort, XenError> {
    let mut bind = EvtchnBindInterdomain {
        remote_dom: remote,
        remote_port,
        ..Default::default()
    };
    op(EVTCHNOP_BIND_INTERDOMAIN, &mut bind).map(|_| bind.local_port)
}

/// Notifies the other end of `port`.
pub fn send(port: EvtchnPort) -> Result<(), XenError> {
    op(EVTCHNOP_SEND, &mut EvtchnSend { port })
}

/// Closes `port`; its pending bit is cleared, and an interdomain peer's
/// port becomes unbound.
pub fn close(port: EvtchnPort) -> Result<(), XenError> {
    op(EVTCHNOP_CLOSE, &mut EvtchnClose { port })
}

/// What `port` of domain `dom` is bound to.
pub fn status(dom: DomId, port: EvtchnPort) -> Result<EvtchnStatus, XenError> {
    let mut status = EvtchnStatus {
        dom,
        port,
        ..Default::default()
    };
    op(EVTCHNOP_STATUS, &mut status).map(|_| status)
}

/// Unmasks `port` through the hypervisor, which delivers it if it became
/// pending while masked.
pub fn unmask(port: EvtchnPort) -> Result<(), XenError> {
    op(EVTCHNOP_UNMASK, &mut EvtchnUnmask { port })
}
