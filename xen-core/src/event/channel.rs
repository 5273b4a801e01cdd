//! One event-channel port: what it is bound to and which vCPU it notifies.

use xen_abi::mmu::DomId;

/// A port number inside the hypervisor. Ports of the two-level ABI are below
/// 4096, so 16 bits hold any valid one; hypercalls check the guest's 32-bit
/// number before narrowing it.
pub type Port = u16;

/// What a port is bound to (Xen's `ECS_*` states).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Channel {
    /// Not in use; may be allocated.
    #[default]
    Free,
    /// Port 0, which is never allocated.
    Reserved,
    /// Allocated and waiting for `remote` to bind to it.
    Unbound {
        /// The one domain allowed to bind.
        remote: DomId,
    },
    /// Connected to `remote_port` of domain `remote` (possibly ourselves).
    Interdomain {
        /// The domain at the other end.
        remote: DomId,
        /// Its port.
        remote_port: Port,
    },
    /// Raised by the hypervisor for a virtual IRQ.
    Virq(u32),
    /// Raised by the domain itself for one of its vCPUs.
    Ipi,
}

/// A port's binding and the vCPU its events go to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortEntry {
    /// What the port is bound to.
    pub channel: Channel,
    /// The vCPU that gets the upcall.
    pub notify_vcpu: u8,
}

impl PortEntry {
    /// The entry of a port that is not in use.
    pub const FREE: PortEntry = PortEntry {
        channel: Channel::Free,
        notify_vcpu: 0,
    };
}
