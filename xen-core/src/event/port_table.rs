//! A domain's event-channel ports: allocation under a quota, and the VIRQs
//! bound on its vCPU.

use super::channel::{Channel, Port, PortEntry};
use xen_abi::errno::Errno;
use xen_abi::event_channel::{EvtchnPort, NR_VIRQS};

/// Ports every domain has room for: Xen's default per-domain limit for
/// guests is 1023 usable ports, and port 0 is reserved. (Xen lets dom0 go to
/// 4096; one size keeps a domain small enough to build on the stack.)
pub const PORTS_PER_DOMAIN: usize = 1024;

/// A domain's ports.
#[derive(Clone, Debug)]
pub struct PortTable {
    entries: [PortEntry; PORTS_PER_DOMAIN],
    /// One past the highest port that may be allocated (the quota).
    limit: usize,
    /// The port bound to each VIRQ on vCPU 0, or 0.
    virq_ports: [Port; NR_VIRQS as usize],
    /// Ports in use, port 0 not counted.
    in_use: usize,
}

impl Default for PortTable {
    fn default() -> Self {
        PortTable::with_limit(PORTS_PER_DOMAIN)
    }
}

impl PortTable {
    /// A table whose ports stay below `limit` (at most [`PORTS_PER_DOMAIN`]).
    pub fn with_limit(limit: usize) -> Self {
        let mut entries = [PortEntry::FREE; PORTS_PER_DOMAIN];
        entries[0].channel = Channel::Reserved;
        PortTable {
            entries,
            limit: limit.clamp(1, PORTS_PER_DOMAIN),
            virq_ports: [0; NR_VIRQS as usize],
            in_use: 0,
        }
    }

    /// The port a guest named, if it is within the table (Xen's
    /// `port_is_valid`): anything else is `-EINVAL` before it is touched.
    pub fn valid_port(&self, port: EvtchnPort) -> Result<Port, Errno> {
        if (port as usize) < self.limit {
            Ok(port as Port)
        } else {
            Err(Errno::EINVAL)
        }
    }

    /// The entry of a valid port.
    pub fn entry(&self, port: Port) -> PortEntry {
        self.entries[usize::from(port)]
    }

    /// Allocates the lowest free port for `channel`, notifying vCPU 0;
    /// `-ENOSPC` when the quota is used up.
    pub fn allocate(&mut self, channel: Channel) -> Result<Port, Errno> {
        let index = self.entries[..self.limit]
            .iter()
            .position(|entry| entry.channel == Channel::Free)
            .ok_or(Errno::ENOSPC)?;
        self.entries[index] = PortEntry {
            channel,
            notify_vcpu: 0,
        };
        if let Channel::Virq(virq) = channel {
            self.virq_ports[virq as usize] = index as Port;
        }
        self.in_use += 1;
        Ok(index as Port)
    }

    /// Whether every port under the quota is in use.
    pub fn is_full(&self) -> bool {
        self.in_use + 1 >= self.limit
    }

    /// Rebinds an allocated port (the far end of an interdomain pair
    /// connecting or closing).
    pub fn set_channel(&mut self, port: Port, channel: Channel) {
        self.entries[usize::from(port)].channel = channel;
    }

    /// Frees an allocated port, and its VIRQ binding.
    pub fn free(&mut self, port: Port) {
        let entry = &mut self.entries[usize::from(port)];
        if let Channel::Virq(virq) = entry.channel {
            self.virq_ports[virq as usize] = 0;
        }
        if !matches!(entry.channel, Channel::Free | Channel::Reserved) {
            *entry = PortEntry::FREE;
            self.in_use -= 1;
        }
    }

    /// The port bound to `virq`, if any.
    pub fn virq_port(&self, virq: u32) -> Option<Port> {
        self.virq_ports.get(virq as usize).copied().filter(|&port| port != 0)
    }

    /// Ports allocated, port 0 not counted.
    pub fn in_use(&self) -> usize {
        self.in_use
    }

    /// Every allocated port with its entry.
    pub fn allocated(&self) -> impl Iterator<Item = (Port, PortEntry)> + '_ {
        self.entries[..self.limit]
            .iter()
            .enumerate()
            .filter(|(_, entry)| !matches!(entry.channel, Channel::Free | Channel::Reserved))
            .map(|(port, entry)| (port as Port, *entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_allocated_lowest_first_above_the_reserved_port_0() {
        let mut table = PortTable::default();
        assert_eq!(table.entry(0).channel, Channel::Reserved);
        assert_eq!(table.allocate(Channel::Ipi), Ok(1));
        assert_eq!(table.allocate(Channel::Ipi), Ok(2));
        table.free(1);
        assert_eq!(table.allocate(Channel::Unbound { remote: 3 }), Ok(1));
        assert_eq!(table.in_use(), 2);
    }

    #[test]
    fn the_quota_gives_enospc_and_bounds_valid_ports() {
        let mut table = PortTable::with_limit(4);
        for expected in 1..4 {
            assert_eq!(table.allocate(Channel::Ipi), Ok(expected));
        }
        assert!(table.is_full());
        assert_eq!(table.allocate(Channel::Ipi), Err(Errno::ENOSPC));
        table.free(2);
        assert!(!table.is_full());
        assert_eq!(table.valid_port(3), Ok(3));
        assert_eq!(table.valid_port(4), Err(Errno::EINVAL));
        assert_eq!(table.valid_port(u32::MAX), Err(Errno::EINVAL));
    }

    #[test]
    fn a_virq_binding_lives_as_long_as_its_port() {
        let mut table = PortTable::default();
        let port = table.allocate(Channel::Virq(3)).unwrap();
        assert_eq!(table.virq_port(3), Some(port));
        assert_eq!(table.virq_port(0), None);
        assert_eq!(table.virq_port(1000), None);
        table.free(port);
        assert_eq!(table.virq_port(3), None);
        table.free(0);
        assert_eq!(table.entry(0).channel, Channel::Reserved, "port 0 stays reserved");
        assert_eq!(table.in_use(), 0);
    }
}
