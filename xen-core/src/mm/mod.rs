//! Memory management: frame numbers, physical ranges, the frame allocator, the
//! hypervisor's address layout and its own page tables, and the PV MMU's frame
//! table: reference counts, page types and guest page-table validation.

pub mod base_pointer;
pub mod batch_progress;
pub mod budget;
pub mod carry_out;
mod demote;
mod descriptor_page;
pub mod descriptor_window;
pub mod direct_map;
pub mod domain_teardown;
mod entry_refs;
pub mod frame_allocator;
pub mod frame_info;
pub mod frame_table;
pub mod gdt_frames;
pub mod grant_mapping;
pub mod guest_ldt;
pub mod guest_walk;
pub mod hypervisor_page_table;
pub mod invariants;
pub mod job;
pub mod l1tf;
pub mod layout;
pub mod ldt_view;
pub mod mfn;
pub mod mmu_job;
pub mod mmu_update;
pub mod mmuext_op;
mod mod_entry;
pub mod page_ref;
pub mod page_type;
mod pending_stack;
pub mod pfn;
pub mod phys_range;
mod pin;
mod promote;
pub mod pte_rules;
#[cfg(test)]
mod pv_mmu_tests;
mod release_stack;
pub mod reservation;
pub mod segment_descriptor;
pub mod teardown;
pub mod tlb_flush;
pub mod typed_ref;
pub mod update_va_mapping;

pub use base_pointer::BaseSwitch;
pub use frame_info::FrameInfo;
pub use frame_table::FrameTable;
pub use mfn::Mfn;
pub use page_ref::PageRef;
pub use page_type::{PageType, TableLevel};
pub use pfn::Pfn;
pub use phys_range::PhysRange;
pub use typed_ref::TypedRef;
