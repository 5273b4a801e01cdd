//! Every domain, by id, and the view a hypercall gets of the ones that are
//! not calling.

use super::pv_domain::PvDomain;
use crate::mm::Mfn;
use xen_abi::mmu::DomId;

// Domains the hypervisor holds at once; a domain's id is its slot.
pub use xen_abi::domain_builder::MAX_DOMAINS;

/// The domains.
pub struct DomainTable {
    slots: [Option<PvDomain>; MAX_DOMAINS],
}

impl Default for DomainTable {
    fn default() -> Self {
        DomainTable::new()
    }
}

impl DomainTable {
    /// An empty table.
    pub const fn new() -> Self {
        DomainTable {
            slots: [const { None }; MAX_DOMAINS],
        }
    }

    /// The empty slot of id `id`, for a domain to be built in place (a
    /// domain is large: it is made where it will live, never moved in);
    /// `None` if the id is out of range or taken.
    pub fn vacant(&mut self, id: DomId) -> Option<VacantSlot<'_>> {
        match self.slots.get_mut(usize::from(id)) {
            Some(slot @ None) => Some(VacantSlot { id, slot }),
            _ => None,
        }
    }

    /// Makes a new domain in the free slot of `id` ([`PvDomain::new`]);
    /// `None` if the id is out of range or taken.
    pub fn create(&mut self, id: DomId, name: &str, shared_info: Mfn, nr_pages: u64) -> Option<&mut PvDomain> {
        Some(self.vacant(id)?.fill(name, shared_info, nr_pages))
    }

    /// Takes domain `id` out of the table.
    pub fn remove(&mut self, id: DomId) -> Option<PvDomain> {
        self.slots.get_mut(usize::from(id))?.take()
    }

    /// Domain `id`.
    pub fn get(&self, id: DomId) -> Option<&PvDomain> {
        self.slots.get(usize::from(id))?.as_ref()
    }

    /// Domain `id`, to change.
    pub fn get_mut(&mut self, id: DomId) -> Option<&mut PvDomain> {
        self.slots.get_mut(usize::from(id))?.as_mut()
    }

    /// Domain `id` apart from all the others, for a hypercall it makes.
    pub fn split(&mut self, id: DomId) -> Option<(&mut PvDomain, Others<'_>)> {
        let index = usize::from(id);
        if index >= MAX_DOMAINS {
            return None;
        }
        let (before, rest) = self.slots.split_at_mut(index);
        let (caller, after) = rest.split_first_mut()?;
        Some((caller.as_mut()?, Others { before, after }))
    }

    /// Every domain.
    pub fn iter(&self) -> impl Iterator<Item = &PvDomain> {
        self.slots.iter().flatten()
    }

    /// Every domain, to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut PvDomain> {
        self.slots.iter_mut().flatten()
    }
}

/// The free slot of one domain id, where a domain is built in place.
pub struct VacantSlot<'t> {
    id: DomId,
    slot: &'t mut Option<PvDomain>,
}

impl<'t> VacantSlot<'t> {
    /// The id a domain made here gets.
    pub fn id(&self) -> DomId {
        self.id
    }

    /// Makes the domain ([`PvDomain::new`] with this slot's id) in the slot.
    pub fn fill(self, name: &str, shared_info: Mfn, nr_pages: u64) -> &'t mut PvDomain {
        self.slot.insert(PvDomain::new(self.id, name, shared_info, nr_pages))
    }
}

/// Finding a domain by id, one at a time: operations that touch two domains
/// (closing one end of a channel unbinds the other) look each up in turn,
/// so the same code serves a hypercall (the caller plus [`Others`]) and the
/// hypervisor acting on the whole [`DomainTable`].
pub trait DomainLookup {
    /// Domain `id`, if it exists.
    fn domain(&mut self, id: DomId) -> Option<&mut PvDomain>;
}

impl DomainLookup for DomainTable {
    fn domain(&mut self, id: DomId) -> Option<&mut PvDomain> {
        self.get_mut(id)
    }
}

impl DomainLookup for Others<'_> {
    fn domain(&mut self, id: DomId) -> Option<&mut PvDomain> {
        self.get_mut(id)
    }
}

/// Every domain as a hypercall sees them: the caller and the others.
pub struct Everyone<'x, 'y> {
    /// The calling domain.
    pub caller: &'x mut PvDomain,
    /// The rest.
    pub others: &'x mut Others<'y>,
}

impl DomainLookup for Everyone<'_, '_> {
    fn domain(&mut self, id: DomId) -> Option<&mut PvDomain> {
        if id == self.caller.id() {
            Some(&mut *self.caller)
        } else {
            self.others.get_mut(id)
        }
    }
}

/// The domains other than the one calling.
pub struct Others<'a> {
    before: &'a mut [Option<PvDomain>],
    after: &'a mut [Option<PvDomain>],
}

impl Others<'_> {
    /// No other domains (host tests of one domain).
    pub fn none() -> Others<'static> {
        Others {
            before: &mut [],
            after: &mut [],
        }
    }

    /// Domain `id`, unless it is the caller or does not exist.
    pub fn get_mut(&mut self, id: DomId) -> Option<&mut PvDomain> {
        let index = usize::from(id);
        let slot = if index < self.before.len() {
            &mut self.before[index]
        } else {
            self.after.get_mut(index.checked_sub(self.before.len() + 1)?)?
        };
        slot.as_mut().filter(|domain| domain.id() == id)
    }

    /// The same view for a shorter borrow (a call inside a multicall).
    pub fn reborrow(&mut self) -> Others<'_> {
        Others {
            before: &mut *self.before,
            after: &mut *self.after,
        }
    }

    /// Every other domain.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut PvDomain> {
        self.before.iter_mut().chain(self.after.iter_mut()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(ids: &[DomId]) -> DomainTable {
        let mut table = DomainTable::new();
        for &id in ids {
            assert!(table.create(id, "d", Mfn(0x100 + u64::from(id)), 1).is_some());
        }
        table
    }

    #[test]
    fn the_caller_is_apart_from_the_others() {
        let mut table = table(&[0, 1, 3]);
        let (caller, mut others) = table.split(1).unwrap();
        assert_eq!(caller.id(), 1);
        assert_eq!(others.get_mut(0).map(|d| d.id()), Some(0));
        assert_eq!(others.get_mut(3).map(|d| d.id()), Some(3));
        assert!(others.get_mut(1).is_none(), "the caller is not one of the others");
        assert!(others.get_mut(2).is_none(), "an empty slot");
        assert!(others.get_mut(0x7ff0).is_none(), "DOMID_SELF is no slot");
        assert_eq!(others.iter_mut().count(), 2);
    }

    #[test]
    fn ids_must_fit_and_be_free() {
        let mut table = table(&[0]);
        assert!(table.create(0, "again", Mfn(1), 1).is_none());
        assert!(table.create(MAX_DOMAINS as DomId, "far", Mfn(1), 1).is_none());
        assert!(table.split(5).is_none());
        assert!(table.split(100).is_none());
        assert_eq!(table.remove(0).map(|d| d.id()), Some(0));
        assert_eq!(table.iter().count(), 0);
    }
}
