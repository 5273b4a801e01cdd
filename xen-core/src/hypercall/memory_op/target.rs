//! The domain a `memory_op` names: itself (`DOMID_SELF` or its own id), or,
//! for the control domain only, another.

use super::super::hypercall_context::HypercallContext;
use crate::arch::{PhysicalMemory, Platform};
use crate::domain::pv_domain::PvDomain;
use xen_abi::errno::Errno;
use xen_abi::mmu::{DOMID_SELF, DomId};

/// What the reservation calls need of the named domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its id (the owner of the frames).
    pub id: DomId,
    /// Most frames it may own.
    pub max_pages: u64,
    /// One past the highest pseudo-physical frame its kernel says it uses
    /// (`shared_info.arch.max_pfn`, which the guest writes).
    pub max_pfn: u64,
    /// Whether it runs (no memory goes to a dying domain).
    pub running: bool,
}

/// Byte offset of `arch.max_pfn` in `shared_info`.
const MAX_PFN_OFFSET: u64 = core::mem::offset_of!(xen_abi::shared_info::SharedInfo, arch.max_pfn) as u64;

/// The domain `domid` names for the caller: -ESRCH if there is none, -EPERM
/// if it is another and the caller is not the control domain (Xen looks it
/// up first).
pub fn resolve<P: Platform>(context: &mut HypercallContext<'_, P>, domid: DomId) -> Result<Target, Errno> {
    let domain: &PvDomain = if domid == DOMID_SELF || domid == context.domain.id() {
        context.domain
    } else {
        let other = context.others.get_mut(domid).ok_or(Errno::ESRCH)?;
        if context.domain.privilege().is_none() {
            return Err(Errno::EPERM);
        }
        other
    };
    let max_pfn = context
        .platform
        .memory()
        .read_u64(domain.shared_info().address() + MAX_PFN_OFFSET);
    Ok(Target {
        id: domain.id(),
        max_pages: domain.reservation.max_pages(),
        max_pfn,
        running: domain.is_running(),
    })
}
