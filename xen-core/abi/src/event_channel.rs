//! Event channels of `event_channel.h` and the VIRQ numbers of `xen.h`.
//!
//! `event_channel_op` takes a command in RDI and a pointer to the command's
//! struct in RSI; outputs are written back into that struct. The two-level
//! pending and mask bitmaps live in [`crate::shared_info::SharedInfo`].

use crate::mmu::DomId;
use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `evtchn_port_t`: a port number, local to one domain.
pub type EvtchnPort = u32;

/// `EVTCHN_2L_NR_CHANNELS`: ports of the two-level ABI on x86_64 (64 × 64).
pub const EVTCHN_2L_NR_CHANNELS: usize = 4096;

/// Connect to an unbound port of another domain ([`EvtchnBindInterdomain`]).
pub const EVTCHNOP_BIND_INTERDOMAIN: u32 = 0;
/// Bind a VIRQ on a vCPU ([`EvtchnBindVirq`]).
pub const EVTCHNOP_BIND_VIRQ: u32 = 1;
/// Bind a physical IRQ ([`EvtchnBindPirq`]).
pub const EVTCHNOP_BIND_PIRQ: u32 = 2;
/// Close a port ([`EvtchnClose`]).
pub const EVTCHNOP_CLOSE: u32 = 3;
/// Notify the other end of a port ([`EvtchnSend`]).
pub const EVTCHNOP_SEND: u32 = 4;
/// Query a port ([`EvtchnStatus`]).
pub const EVTCHNOP_STATUS: u32 = 5;
/// Allocate a port another domain may connect to ([`EvtchnAllocUnbound`]).
pub const EVTCHNOP_ALLOC_UNBOUND: u32 = 6;
/// Bind an inter-vCPU notification port ([`EvtchnBindIpi`]).
pub const EVTCHNOP_BIND_IPI: u32 = 7;
/// Deliver a port to another vCPU ([`EvtchnBindVcpu`]).
pub const EVTCHNOP_BIND_VCPU: u32 = 8;
/// Unmask a port and deliver it if pending ([`EvtchnUnmask`]).
pub const EVTCHNOP_UNMASK: u32 = 9;
/// Close all of a domain's ports ([`EvtchnReset`]).
pub const EVTCHNOP_RESET: u32 = 10;
/// FIFO ABI: register a control block.
pub const EVTCHNOP_INIT_CONTROL: u32 = 11;
/// FIFO ABI: add an event array page.
pub const EVTCHNOP_EXPAND_ARRAY: u32 = 12;
/// FIFO ABI: set a port's priority.
pub const EVTCHNOP_SET_PRIORITY: u32 = 13;

/// `struct evtchn_alloc_unbound` (8 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnAllocUnbound {
    /// Domain that gets the port (DOMID_SELF unless privileged).
    pub dom: DomId,
    /// Domain allowed to connect to it.
    pub remote_dom: DomId,
    /// Out: the new port.
    pub port: EvtchnPort,
}

/// `struct evtchn_bind_interdomain` (12 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnBindInterdomain {
    /// Domain owning the unbound port.
    pub remote_dom: DomId,
    /// Implicit C padding before `remote_port`; zero.
    pub _pad0: u16,
    /// The remote unbound port.
    pub remote_port: EvtchnPort,
    /// Out: the new local port.
    pub local_port: EvtchnPort,
}

/// `struct evtchn_bind_virq` (12 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnBindVirq {
    /// One of the `VIRQ_*` numbers.
    pub virq: u32,
    /// vCPU to deliver it to.
    pub vcpu: u32,
    /// Out: the new port.
    pub port: EvtchnPort,
}

/// [`EvtchnBindPirq::flags`]: the IRQ may be shared with other domains.
pub const BIND_PIRQ_WILL_SHARE: u32 = 1;

/// `struct evtchn_bind_pirq` (12 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnBindPirq {
    /// Physical IRQ.
    pub pirq: u32,
    /// [`BIND_PIRQ_WILL_SHARE`] or 0.
    pub flags: u32,
    /// Out: the new port.
    pub port: EvtchnPort,
}

/// `struct evtchn_bind_ipi` (8 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnBindIpi {
    /// vCPU to deliver it to.
    pub vcpu: u32,
    /// Out: the new port.
    pub port: EvtchnPort,
}

/// `struct evtchn_close` (4 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnClose {
    /// Port to close.
    pub port: EvtchnPort,
}

/// `struct evtchn_send` (4 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnSend {
    /// Local port whose other end is notified.
    pub port: EvtchnPort,
}

/// [`EvtchnStatus::status`]: the port is free.
pub const EVTCHNSTAT_CLOSED: u32 = 0;
/// [`EvtchnStatus::status`]: waiting for a domain to connect.
pub const EVTCHNSTAT_UNBOUND: u32 = 1;
/// [`EvtchnStatus::status`]: connected to a port of another domain.
pub const EVTCHNSTAT_INTERDOMAIN: u32 = 2;
/// [`EvtchnStatus::status`]: bound to a physical IRQ.
pub const EVTCHNSTAT_PIRQ: u32 = 3;
/// [`EvtchnStatus::status`]: bound to a VIRQ.
pub const EVTCHNSTAT_VIRQ: u32 = 4;
/// [`EvtchnStatus::status`]: bound to an inter-vCPU notification.
pub const EVTCHNSTAT_IPI: u32 = 5;

/// `struct evtchn_status` (24 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnStatus {
    /// Domain owning the port.
    pub dom: DomId,
    /// Implicit C padding before `port`; zero.
    pub _pad0: u16,
    /// Port to query.
    pub port: EvtchnPort,
    /// Out: one of the `EVTCHNSTAT_*` values.
    pub status: u32,
    /// Out: vCPU the port is delivered to.
    pub vcpu: u32,
    /// Out: the union `u`, whose view `status` selects.
    pub u: EvtchnStatusDetail,
}

/// The 8-byte union `evtchn_status.u`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnStatusDetail {
    /// The union's words; `raw[0]` is `pirq` or `virq`.
    pub raw: [u32; 2],
}

/// `u.unbound`: the domain allowed to connect.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnStatusUnbound {
    /// Domain allowed to connect.
    pub dom: DomId,
    /// Rest of the union; zero.
    pub _pad0: [u16; 3],
}

/// `u.interdomain`: the connected remote end.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnStatusInterdomain {
    /// Remote domain.
    pub dom: DomId,
    /// Implicit C padding before `port`; zero.
    pub _pad0: u16,
    /// Remote port.
    pub port: EvtchnPort,
}

impl EvtchnStatusDetail {
    /// The `unbound` view ([`EVTCHNSTAT_UNBOUND`]).
    pub fn unbound(&self) -> &EvtchnStatusUnbound {
        zerocopy::transmute_ref!(self)
    }

    /// The `unbound` view, writable.
    pub fn unbound_mut(&mut self) -> &mut EvtchnStatusUnbound {
        zerocopy::transmute_mut!(self)
    }

    /// The `interdomain` view ([`EVTCHNSTAT_INTERDOMAIN`]).
    pub fn interdomain(&self) -> &EvtchnStatusInterdomain {
        zerocopy::transmute_ref!(self)
    }

    /// The `interdomain` view, writable.
    pub fn interdomain_mut(&mut self) -> &mut EvtchnStatusInterdomain {
        zerocopy::transmute_mut!(self)
    }

    /// The `pirq` view ([`EVTCHNSTAT_PIRQ`]).
    pub fn pirq(&self) -> u32 {
        self.raw[0]
    }

    /// The `virq` view ([`EVTCHNSTAT_VIRQ`]).
    pub fn virq(&self) -> u32 {
        self.raw[0]
    }
}

/// `struct evtchn_bind_vcpu` (8 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnBindVcpu {
    /// Port to move.
    pub port: EvtchnPort,
    /// vCPU to deliver it to.
    pub vcpu: u32,
}

/// `struct evtchn_unmask` (4 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnUnmask {
    /// Port to unmask.
    pub port: EvtchnPort,
}

/// `struct evtchn_reset` (2 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct EvtchnReset {
    /// Domain whose ports are closed (DOMID_SELF unless privileged).
    pub dom: DomId,
}

/// Per-vCPU VIRQ: the periodic or one-shot timer fired.
pub const VIRQ_TIMER: u32 = 0;
/// Per-vCPU VIRQ: asked to dump debug state.
pub const VIRQ_DEBUG: u32 = 1;
/// Global VIRQ: input on the emergency console (dom0).
pub const VIRQ_CONSOLE: u32 = 2;
/// Global VIRQ: a domain changed state (dom0).
pub const VIRQ_DOM_EXC: u32 = 3;
/// Global VIRQ: trace buffers have records (dom0).
pub const VIRQ_TBUF: u32 = 4;
/// Global VIRQ: a domain paused for a debugger (dom0).
pub const VIRQ_DEBUGGER: u32 = 6;
/// Per-vCPU VIRQ: a profiling sample is ready.
pub const VIRQ_XENOPROF: u32 = 7;
/// Global VIRQ: bytes arrived on the console ring (dom0).
pub const VIRQ_CON_RING: u32 = 8;
/// Global VIRQ: a physical CPU changed state (dom0).
pub const VIRQ_PCPU_STATE: u32 = 9;
/// Global VIRQ: a memory event occurred (dom0).
pub const VIRQ_MEM_EVENT: u32 = 10;
/// Global VIRQ: an Argo message arrived.
pub const VIRQ_ARGO: u32 = 11;
/// Global VIRQ: the hypervisor is low on memory (dom0).
pub const VIRQ_ENOMEM: u32 = 12;
/// Per-vCPU VIRQ: performance-counter interrupt.
pub const VIRQ_XENPMU: u32 = 13;
/// First architecture-specific VIRQ (16–23).
pub const VIRQ_ARCH_0: u32 = 16;
/// `NR_VIRQS`: number of VIRQ numbers.
pub const NR_VIRQS: u32 = 24;

const _: () = {
    assert!(size_of::<EvtchnAllocUnbound>() == 8);
    assert!(offset_of!(EvtchnAllocUnbound, port) == 4);
    assert!(size_of::<EvtchnBindInterdomain>() == 12);
    assert!(offset_of!(EvtchnBindInterdomain, remote_port) == 4);
    assert!(offset_of!(EvtchnBindInterdomain, local_port) == 8);
    assert!(size_of::<EvtchnBindVirq>() == 12);
    assert!(offset_of!(EvtchnBindVirq, port) == 8);
    assert!(size_of::<EvtchnBindPirq>() == 12);
    assert!(size_of::<EvtchnBindIpi>() == 8);
    assert!(size_of::<EvtchnClose>() == 4);
    assert!(size_of::<EvtchnSend>() == 4);
    assert!(size_of::<EvtchnStatus>() == 24);
    assert!(offset_of!(EvtchnStatus, port) == 4);
    assert!(offset_of!(EvtchnStatus, status) == 8);
    assert!(offset_of!(EvtchnStatus, u) == 16);
    assert!(size_of::<EvtchnStatusDetail>() == 8);
    assert!(offset_of!(EvtchnStatusInterdomain, port) == 4);
    assert!(size_of::<EvtchnBindVcpu>() == 8);
    assert!(size_of::<EvtchnUnmask>() == 4);
    assert!(size_of::<EvtchnReset>() == 2);
    assert!(EVTCHN_2L_NR_CHANNELS == 64 * 64);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_views_share_the_union_bytes() {
        let mut status = EvtchnStatus::default();
        status.u.interdomain_mut().dom = 7;
        status.u.interdomain_mut().port = 42;
        let bytes = status.as_bytes();
        assert_eq!(bytes[16..18], 7u16.to_le_bytes());
        assert_eq!(bytes[20..24], 42u32.to_le_bytes());
        assert_eq!(status.u.unbound().dom, 7);
        assert_eq!(status.u.virq(), 7);

        status.u.unbound_mut().dom = 3;
        assert_eq!(status.u.pirq(), 3);
        assert_eq!(status.u.interdomain().port, 42);
    }
}
