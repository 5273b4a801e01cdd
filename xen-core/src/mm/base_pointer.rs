//! Switching a vCPU's page-table base (Xen's `new_guest_cr3`, `MMUEXT_NEW_BASEPTR`
//! in `public/xen.h`).
//!
//! The old base's references are not dropped here: the CPU walks that L4
//! until CR3 is reloaded, and a frame whose type reference is gone can be
//! rewritten by its owner. Callers load the new base, then give the old
//! reference back (Xen, too, loads the new base before it puts the old).

use super::Mfn;
use super::budget::Budget;
use super::frame_table::FrameTable;
use super::guest_ldt::GuestLdt;
use super::page_type::PageType;
use super::typed_ref::TypedRef;
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

/// What of a vCPU `mmuext_op` changes: the kernel base (Xen's
/// `guest_table`, `MMUEXT_NEW_BASEPTR`), which the CPU walks while the
/// guest kernel makes the hypercall, the user base (`guest_table_user`,
/// `MMUEXT_NEW_USER_BASEPTR`) and the LDT (`MMUEXT_SET_LDT`).
pub struct BasePointers<'a> {
    /// The kernel base.
    pub kernel: &'a mut Option<TypedRef>,
    /// The user base.
    pub user: &'a mut Option<TypedRef>,
    /// The LDT.
    pub ldt: &'a mut GuestLdt,
}

/// What [`FrameTable::new_baseptr`] did.
#[must_use = "a switched base must be loaded before the old one's reference is put"]
#[derive(Debug, PartialEq, Eq)]
pub enum BaseSwitch {
    /// `new` was already the base: nothing to load.
    Unchanged,
    /// `new` is the base now: load it, then put `old` (if any) with
    /// [`FrameTable::put_page_and_type`].
    Switched {
        /// The previous base's references, still held.
        old: Option<TypedRef>,
    },
}

impl FrameTable<'_> {
    /// Makes `new`, which must be an L4 of `owner`, the base in `base` (a
    /// vCPU's kernel or user base pointer): takes a general and an L4 typed
    /// reference on it, validating its tree if needed, and hands back the old
    /// base's references (see [`BaseSwitch`]). On failure (-EINVAL for a frame
    /// that is not `owner`'s or cannot be an L4, or the validation error)
    /// `base` and the table are unchanged.
    pub fn new_baseptr<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        owner: DomId,
        base: &mut Option<TypedRef>,
        new: Mfn,
    ) -> Result<BaseSwitch, Errno> {
        self.new_baseptr_within(memory, owner, base, new, &mut Budget::unlimited())
    }

    /// [`FrameTable::new_baseptr`] with the new tree's validation bounded by
    /// `budget`: -ERESTART, with `base` unchanged, when it did not finish
    /// (switching to the same frame again goes on with it).
    pub fn new_baseptr_within<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        owner: DomId,
        base: &mut Option<TypedRef>,
        new: Mfn,
        budget: &mut Budget,
    ) -> Result<BaseSwitch, Errno> {
        if base.as_ref().is_some_and(|current| current.mfn() == new) {
            return Ok(BaseSwitch::Unchanged);
        }
        let typed = self.get_page_and_type_within(memory, new, owner, PageType::L4, budget)?;
        Ok(BaseSwitch::Switched {
            old: base.replace(typed),
        })
    }
}
