//! Typed references (Xen's `type_info` count) and [`TypedRef`], the handle holding one.
//!
//! A frame's type changes only while its type count is 0; a reference of
//! another type fails while any is held. The first L1–L4 reference validates
//! the table (`promote`), the last one devalidates it (`demote`). A
//! `TypedRef` also holds the general reference that every typed one needs;
//! the same rules as for [`PageRef`] keep gets and puts paired.

use super::Mfn;
use super::budget::Budget;
use super::frame_info::MAX_REFS;
use super::frame_table::FrameTable;
use super::page_ref::PageRef;
use super::page_type::{PageType, TableLevel};
use crate::arch::PhysicalMemory;
use core::mem::ManuallyDrop;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

/// One typed plus one general reference on a frame, to be returned with
/// [`FrameTable::put_page_type`] or [`FrameTable::put_page_and_type`].
#[must_use = "a typed reference must be returned with FrameTable::put_page_and_type"]
#[derive(Debug, PartialEq, Eq)]
pub struct TypedRef {
    mfn: Mfn,
    page_type: PageType,
}

impl TypedRef {
    /// The referenced frame.
    pub const fn mfn(&self) -> Mfn {
        self.mfn
    }

    /// The type the reference is for.
    pub const fn page_type(&self) -> PageType {
        self.page_type
    }

    fn into_mfn(self) -> Mfn {
        ManuallyDrop::new(self).mfn
    }
}

#[cfg(test)]
impl Drop for TypedRef {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("TypedRef for {} dropped without put", self.mfn);
        }
    }
}

impl FrameTable<'_> {
    /// Adds a typed reference of `page_type` to the general one `page` holds,
    /// validating an L1–L4 table (its whole tree) on first use. On failure the
    /// general reference comes back with the error (-EINVAL for a type
    /// conflict, an overflow, a type that cannot be taken; a validation error
    /// as the failing entry reported it) and nothing else has changed, except
    /// that a TLB-flush request (see `take_flush_request`) may remain set,
    /// which costs a needless flush at most.
    pub fn get_page_type<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        page: PageRef,
        page_type: PageType,
    ) -> Result<TypedRef, (PageRef, Errno)> {
        let mfn = page.mfn();
        if let Err(error) = self.get_type_raw(memory, mfn, page_type) {
            return Err((page, error));
        }
        let mfn = page.into_mfn();
        if let Some(frame) = self.frame_mut(mfn) {
            frame.handle_type_refs += 1;
        }
        Ok(TypedRef { mfn, page_type })
    }

    /// Drops the typed reference (devalidating a table whose last one it was)
    /// and hands back the general one.
    pub fn put_page_type<M: PhysicalMemory>(&mut self, memory: &mut M, typed: TypedRef) -> PageRef {
        let mfn = typed.into_mfn();
        if let Some(frame) = self.frame_mut(mfn) {
            frame.handle_type_refs = frame.handle_type_refs.saturating_sub(1);
        }
        self.put_type_raw(memory, mfn);
        PageRef::new(mfn)
    }

    /// [`FrameTable::get_page`] then [`FrameTable::get_page_type`]; on failure
    /// neither reference is held.
    pub fn get_page_and_type<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        mfn: Mfn,
        owner: DomId,
        page_type: PageType,
    ) -> Result<TypedRef, Errno> {
        let page = self.get_page(mfn, owner)?;
        self.get_page_type(memory, page, page_type).map_err(|(page, error)| {
            self.put_page(page);
            error
        })
    }

    /// Drops both references of `typed`.
    pub fn put_page_and_type<M: PhysicalMemory>(&mut self, memory: &mut M, typed: TypedRef) {
        self.put_page_and_type_within(memory, typed, &mut Budget::unlimited());
    }

    /// [`FrameTable::get_page_and_type`] within `budget`: -ERESTART when a
    /// table's validation did not finish (it is kept; asking again for the
    /// same type of the same frame goes on with it).
    pub fn get_page_and_type_within<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        mfn: Mfn,
        owner: DomId,
        page_type: PageType,
        budget: &mut Budget,
    ) -> Result<TypedRef, Errno> {
        let page = self.get_page(mfn, owner)?;
        let mfn = page.mfn();
        if let Err(error) = self.get_type_within(memory, mfn, page_type, budget) {
            self.put_page(page);
            return Err(error);
        }
        let mfn = page.into_mfn();
        if let Some(frame) = self.frame_mut(mfn) {
            frame.handle_type_refs += 1;
        }
        Ok(TypedRef { mfn, page_type })
    }

    /// [`FrameTable::put_page_and_type`], releasing a table's tree within
    /// `budget` (what is left is finished before the owner's next
    /// page-table request).
    pub fn put_page_and_type_within<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        typed: TypedRef,
        budget: &mut Budget,
    ) {
        let mfn = typed.into_mfn();
        if let Some(frame) = self.frame_mut(mfn) {
            frame.handle_type_refs = frame.handle_type_refs.saturating_sub(1);
        }
        self.put_type_within(memory, mfn, budget);
        self.put_page(PageRef::new(mfn));
    }

    /// Counts a typed reference on a frame the caller holds a general
    /// reference on, validating a table's tree if needed, however long that
    /// takes (the builder's, tests', and handles of types that need no
    /// validation).
    pub(super) fn get_type_raw<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        mfn: Mfn,
        page_type: PageType,
    ) -> Result<(), Errno> {
        self.get_type_within(memory, mfn, page_type, &mut Budget::unlimited())
    }

    /// Counts a typed reference without validating; `Ok(true)` means the frame
    /// is a table whose validation the caller now owes (see `validate_tree`).
    pub(super) fn begin_type(&mut self, mfn: Mfn, page_type: PageType) -> Result<bool, Errno> {
        // Descriptor pages are typed only through `get_descriptor_type`,
        // which checks their contents.
        if matches!(page_type, PageType::None | PageType::SegDesc) {
            return Err(Errno::EINVAL);
        }
        let frame = self.frame_mut(mfn).ok_or(Errno::EINVAL)?;
        if frame.count == 0 || frame.type_count >= MAX_REFS {
            return Err(Errno::EINVAL);
        }
        // A table whose release is under way keeps its old type until the
        // release is done; its owner finishes it before any request.
        if frame.releasing {
            return Err(Errno::EBUSY);
        }
        if frame.type_count == 0 {
            frame.page_type = page_type;
            frame.validated = page_type.table_level().is_none();
        } else if frame.page_type != page_type || !frame.validated {
            // A conflicting type, or a table whose validation is under way
            // (levels strictly decrease down a tree, so that cannot happen).
            return Err(Errno::EINVAL);
        }
        frame.type_count += 1;
        let needs_validation = !frame.validated;
        if needs_validation {
            self.flush_requested = true;
        }
        Ok(needs_validation)
    }

    /// Drops a counted typed reference; returns the level of a validated table
    /// whose last one it was. That table keeps its type, marked releasing,
    /// until the caller has released its entries (`demote`).
    pub(super) fn drop_type(&mut self, mfn: Mfn) -> Option<TableLevel> {
        let frame = self.frame_mut(mfn)?;
        if frame.type_count == 0 {
            return None;
        }
        frame.type_count -= 1;
        if frame.type_count > 0 {
            return None;
        }
        let demote = if frame.validated {
            frame.page_type.table_level()
        } else {
            None
        };
        frame.validated = false;
        frame.pinned = false;
        match demote {
            Some(_) => frame.releasing = true,
            None => frame.page_type = PageType::None,
        }
        demote
    }

    /// Drops a counted typed reference, devalidating the table (and what only
    /// it held) if it was the last, however long that takes.
    pub(super) fn put_type_raw<M: PhysicalMemory>(&mut self, memory: &mut M, mfn: Mfn) {
        self.put_type_within(memory, mfn, &mut Budget::unlimited());
    }
}
