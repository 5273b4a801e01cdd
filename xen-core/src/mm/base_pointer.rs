//! Switching a vCPU's page-table base (xen-pv-abi 10.10, `new_guest_cr3`).

use super::Mfn;
use super::frame_table::FrameTable;
use super::page_type::PageType;
use super::typed_ref::TypedRef;
use crate::arch::PhysicalMemory;
use crate::domain::pv_domain::DomId;
use xen_abi::errno::Errno;

impl FrameTable<'_> {
    /// Makes `new`, which must be an L4 of `owner`, the base in `base` (a
    /// vCPU's kernel or user base pointer): takes a general and an L4 typed
    /// reference on it, validating its tree if needed, then drops the old
    /// base's. Switching to the current base changes nothing. On failure
    /// (-EINVAL for a frame that is not `owner`'s or cannot be an L4, or the
    /// validation error) `base` and the table are unchanged. Loading CR3 and
    /// flushing are the caller's.
    pub fn new_baseptr<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        owner: DomId,
        base: &mut Option<TypedRef>,
        new: Mfn,
    ) -> Result<(), Errno> {
        if base.as_ref().is_some_and(|current| current.mfn() == new) {
            return Ok(());
        }
        let typed = self.get_page_and_type(memory, new, owner, PageType::L4)?;
        if let Some(old) = base.replace(typed) {
            self.put_page_and_type(memory, old);
        }
        Ok(())
    }
}
