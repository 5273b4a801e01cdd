//! The control domain's privilege, as a capability (in the manner of Tock's
//! capabilities): a value that only [`Privilege::of_domain`] makes, held by
//! the domain it was made for, and asked for by every operation that acts on
//! other domains or on the machine.

use xen_abi::mmu::DomId;

/// Proof that its holder is the control domain. Its field is private, so no
/// code outside this file can make one: holding one is the check, and a
/// domain's privilege cannot be switched on by writing a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Privilege(());

impl Privilege {
    /// The privilege domain `id` is born with: dom0 is the control domain,
    /// as on Xen built without XSM; every other domain has none.
    pub fn of_domain(id: DomId) -> Option<Privilege> {
        (id == 0).then_some(Privilege(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dom0_is_born_privileged() {
        assert!(Privilege::of_domain(0).is_some());
        assert!((1..=DomId::MAX).all(|id| Privilege::of_domain(id).is_none()));
    }
}
