//! Closing a port, and with it the binding at the other end.

use super::channel::{Channel, Port};
use super::port_table::PORTS_PER_DOMAIN;
use crate::arch::PhysicalMemory;
use crate::domain::domain_table::DomainLookup;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

/// Closes `port` of domain `owner` (Xen's `evtchn_close`): an interdomain
/// port's far end becomes unbound again, waiting for `owner` to bind anew;
/// the port's pending bit is cleared so that a later binding starts quiet.
/// Closing a port that is not in use is `-EINVAL`.
pub fn close_port(
    domains: &mut impl DomainLookup,
    memory: &mut impl PhysicalMemory,
    owner: DomId,
    port: Port,
) -> Result<(), Errno> {
    let domain = domains.domain(owner).ok_or(Errno::ESRCH)?;
    match domain.events.entry(port).channel {
        Channel::Free | Channel::Reserved => return Err(Errno::EINVAL),
        Channel::Unbound { .. } | Channel::Virq(_) | Channel::Ipi => {}
        Channel::Interdomain { remote, remote_port } => {
            let back = Channel::Interdomain {
                remote: owner,
                remote_port: port,
            };
            // Never rebind a far port that no longer points back at us.
            if let Some(far) = domains.domain(remote)
                && far.events.entry(remote_port).channel == back
            {
                far.events.set_channel(remote_port, Channel::Unbound { remote: owner });
            }
        }
    }
    let domain = domains.domain(owner).ok_or(Errno::ESRCH)?;
    domain.event_bits().clear_pending(memory, port);
    domain.events.free(port);
    Ok(())
}

/// Closes every port of domain `owner` (one that dies, or `EVTCHNOP_reset`).
pub fn close_all_ports(domains: &mut impl DomainLookup, memory: &mut impl PhysicalMemory, owner: DomId) {
    for port in 1..PORTS_PER_DOMAIN as Port {
        let in_use = domains
            .domain(owner)
            .is_some_and(|domain| domain.events.entry(port).channel != Channel::Free);
        if in_use {
            // In use, so it closes.
            let _ = close_port(domains, memory, owner, port);
        }
    }
}
