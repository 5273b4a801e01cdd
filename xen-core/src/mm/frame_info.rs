//! Per-frame state of the PV MMU (Xen's `struct page_info`).

use super::page_type::{PageType, TableLevel};
use xen_abi::mmu::DomId;

/// Largest general or type count a frame may reach: increments beyond it are
/// refused, which also keeps headroom below the `u32` limit.
pub const MAX_REFS: u32 = u32::MAX >> 1;

/// What the hypervisor knows about one machine frame.
///
/// Free frames have no owner and no references. An owned frame holds one
/// general reference for its allocation until the domain gives it up or is
/// destroyed; the frame is free again when the last general reference goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameInfo {
    /// The domain the frame belongs to.
    pub(super) owner: Option<DomId>,
    /// General references: the allocation, entries mapping or pointing at it,
    /// a pin, handles.
    pub(super) count: u32,
    /// The current type; [`PageType::None`] whenever `type_count` is 0.
    pub(super) page_type: PageType,
    /// Typed references: uses as `page_type`.
    pub(super) type_count: u32,
    /// The allocation reference is held (Xen's `PGC_allocated`).
    pub(super) allocated: bool,
    /// The contents passed the checks of `page_type` (Xen's `PGT_validated`).
    pub(super) validated: bool,
    /// A pin holds one general and one typed reference (`PGT_pinned`).
    pub(super) pinned: bool,
    /// Lost its last typed reference as a table, and its entries' references
    /// are being released (`demote`): it keeps its type meanwhile, so that
    /// nothing can type or map it.
    pub(super) releasing: bool,
    /// General references held by `PageRef` and `TypedRef` handles.
    pub(super) handle_refs: u32,
    /// Typed references held by `TypedRef` handles.
    pub(super) handle_type_refs: u32,
    /// A hypervisor page shared with its owner (shared_info, grant frames:
    /// Xen's xenheap pages): not part of the owner's reservation, and not
    /// the owner's to give back.
    pub(super) shared_xen_page: bool,
}

impl FrameInfo {
    /// A free frame.
    pub const FREE: FrameInfo = FrameInfo {
        owner: None,
        count: 0,
        page_type: PageType::None,
        type_count: 0,
        allocated: false,
        validated: false,
        pinned: false,
        releasing: false,
        handle_refs: 0,
        handle_type_refs: 0,
        shared_xen_page: false,
    };

    /// The owning domain, `None` for a free frame.
    pub const fn owner(&self) -> Option<DomId> {
        self.owner
    }

    /// General references.
    pub const fn count(&self) -> u32 {
        self.count
    }

    /// The current type.
    pub const fn page_type(&self) -> PageType {
        self.page_type
    }

    /// Typed references.
    pub const fn type_count(&self) -> u32 {
        self.type_count
    }

    /// Whether the owner's allocation reference is held.
    pub const fn is_allocated(&self) -> bool {
        self.allocated
    }

    /// Whether the contents are validated for the current type.
    pub const fn is_validated(&self) -> bool {
        self.validated
    }

    /// Whether the frame is pinned as a page table.
    pub const fn is_pinned(&self) -> bool {
        self.pinned
    }

    /// The level of the frame if it is a validated page table in use.
    #[inline]
    pub const fn table_level(&self) -> Option<TableLevel> {
        if self.type_count > 0 && self.validated {
            self.page_type.table_level()
        } else {
            None
        }
    }

    /// Whether it is a hypervisor page shared with its owner.
    pub const fn is_shared_xen_page(&self) -> bool {
        self.shared_xen_page
    }

    /// Whether the frame is free.
    pub const fn is_free(&self) -> bool {
        self.owner.is_none() && self.count == 0
    }
}
