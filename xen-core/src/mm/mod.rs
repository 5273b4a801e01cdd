//! Memory management: frame numbers, physical ranges, the frame allocator, the
//! hypervisor's address layout and its own page tables.

pub mod direct_map;
pub mod frame_allocator;
pub mod hypervisor_page_table;
pub mod layout;
pub mod mfn;
pub mod phys_range;

pub use mfn::Mfn;
pub use phys_range::PhysRange;
