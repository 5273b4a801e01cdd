//! The end of a domain: its ports closed, dom0 told, its grant mappings
//! unpinned, its memory given back.

use super::domain_table::DomainTable;
use super::pv_domain::PvDomain;
use crate::arch::PhysicalMemory;
use crate::event::close::close_all_ports;
use crate::mm::teardown::Teardown;
use crate::mm::{FrameTable, Mfn};
use xen_abi::event_channel::VIRQ_DOM_EXC;
use xen_abi::mmu::DomId;

/// What destroying a domain did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Death {
    /// Its memory: frames freed and frames still referenced elsewhere.
    pub teardown: Teardown,
    /// Whether VIRQ_DOM_EXC woke dom0.
    pub woke_dom0: bool,
}

/// Destroys domain `id` (it crashed or shut down): every port is closed, so
/// the far end of each interdomain channel becomes unbound and the domain
/// on it goes on; dom0 gets VIRQ_DOM_EXC; the domain leaves the table and
/// its memory is given back at once, each frame that becomes free going to
/// `freed`. `None` if there is no such domain. For tests: the kernel uses
/// [`begin_destroy_domain`], whose memory teardown is bounded per pass.
pub fn destroy_domain(
    domains: &mut DomainTable,
    frames: &mut FrameTable<'_>,
    memory: &mut impl PhysicalMemory,
    id: DomId,
    freed: &mut impl FnMut(Mfn),
) -> Option<Death> {
    let (mut domain, woke_dom0) = take_out(domains, memory, id)?;
    let teardown = domain.release_memory(frames, memory, freed);
    // Its grant mappings went with its tables: expected here, not a fault of
    // the next domain to touch its own.
    let _ = frames.take_implicit_grant_unmaps();
    Some(Death { teardown, woke_dom0 })
}

/// [`destroy_domain`], with the memory given back over the next scheduling
/// passes ([`FrameTable::relinquish_steps`], which reports the teardown when
/// it is done); whether dom0 was woken, or `None` if there is no such
/// domain. The domain id must not be reused before then.
pub fn begin_destroy_domain(
    domains: &mut DomainTable,
    frames: &mut FrameTable<'_>,
    memory: &mut impl PhysicalMemory,
    id: DomId,
    freed: &mut impl FnMut(Mfn),
) -> Option<bool> {
    let (mut domain, woke_dom0) = take_out(domains, memory, id)?;
    domain.begin_release(frames, memory, freed);
    let _ = frames.take_implicit_grant_unmaps();
    Some(woke_dom0)
}

/// Closes the domain's ports, tells dom0, gives its grant pins back and
/// takes it out of the table.
fn take_out(domains: &mut DomainTable, memory: &mut impl PhysicalMemory, id: DomId) -> Option<(PvDomain, bool)> {
    domains.get(id)?;
    close_all_ports(domains, memory, id);
    let woke_dom0 = match domains.get_mut(0) {
        Some(dom0) if id != 0 => dom0.raise_virq(memory, VIRQ_DOM_EXC),
        _ => false,
    };
    let mut domain = domains.remove(id)?;
    // Its grant mappings: the references go with its page tables, the pins
    // on the granters' entries here, so each granter may revoke.
    for entry in domain.maptrack.drain() {
        if let Some(granter) = domains.get_mut(entry.mapping.granter) {
            granter.grants.unpin(memory, entry.gref, entry.mapping.writable);
        }
    }
    Some((domain, woke_dom0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::fake::FakeMemory;
    use crate::event::{Channel, TwoLevel};
    use crate::mm::FrameInfo;
    use crate::mm::pte_rules::HYPERVISOR_L4_SLOTS;
    use crate::sched::RunState;

    #[test]
    fn a_dead_domains_peers_go_on_and_dom0_hears_of_it() {
        let mut domains = DomainTable::new();
        for id in 0..3u16 {
            assert!(domains.create(id, "d", Mfn(0x300 + u64::from(id)), 1).is_some());
        }
        let mut memory = FakeMemory::default();
        let dom0 = domains.get_mut(0).unwrap();
        let dom_exc = dom0.events.allocate(Channel::Virq(VIRQ_DOM_EXC)).unwrap();
        dom0.set_events_masked(&mut memory, false);
        dom0.vcpu.block();
        // d1 and d2 connected.
        let d1_port = domains.get_mut(1).unwrap().events.allocate(Channel::Ipi).unwrap();
        let d2_port = domains
            .get_mut(2)
            .unwrap()
            .events
            .allocate(Channel::Interdomain {
                remote: 1,
                remote_port: d1_port,
            })
            .unwrap();
        domains.get_mut(1).unwrap().events.set_channel(
            d1_port,
            Channel::Interdomain {
                remote: 2,
                remote_port: d2_port,
            },
        );
        let mut frames = FrameTable::new(std::vec![FrameInfo::FREE; 8].leak(), [0; HYPERVISOR_L4_SLOTS]);
        let death = destroy_domain(&mut domains, &mut frames, &mut memory, 1, &mut |_| {}).unwrap();
        assert!(death.woke_dom0);
        assert!(domains.get(1).is_none());
        assert_eq!(
            domains.get(2).unwrap().events.entry(d2_port).channel,
            Channel::Unbound { remote: 1 }
        );
        let dom0 = domains.get(0).unwrap();
        assert!(TwoLevel::new(dom0.shared_info()).is_pending(&memory, dom_exc));
        assert_eq!(dom0.vcpu.run_state(), RunState::Runnable);
        assert!(destroy_domain(&mut domains, &mut frames, &mut memory, 1, &mut |_| {}).is_none());
    }
}
