//! The shared area: the pages of the guest's address space where the SDK
//! maps what it shares with the hypervisor and other domains. Every access
//! to them goes through the one audited accessor (`arch::shared_page`).
//!
//! | pages | what |
//! |---|---|
//! | 0 | shared_info |
//! | 1-4 | the grant table |
//! | 5 | our console ring (domU) |
//! | 6 | our xenstore ring (domU) |
//! | 7-22 | grant windows: other domains' frames we map |

mod layout;

pub use layout::{CONSOLE_RING, GRANT_TABLE, PAGES, SHARED_INFO, WINDOWS, XENSTORE_RING};

use crate::XenError;
use core::sync::atomic::Ordering;

/// Bytes in a page.
const PAGE_SIZE: usize = xen_abi::page_table_entry::PAGE_SIZE as usize;

/// The virtual address of page `page`.
pub fn address(page: usize) -> u64 {
    #[cfg(target_os = "none")]
    {
        crate::arch::shared_page::address(page)
    }
    #[cfg(not(target_os = "none"))]
    {
        (page * PAGE_SIZE) as u64
    }
}

/// Maps machine frame `mfn` (ours, or shared with us by the hypervisor)
/// writable at page `page`.
pub fn map_frame(page: usize, mfn: u64) -> Result<(), XenError> {
    use crate::page_table::{ACCESSED, DIRTY, PRESENT, RW};
    let entry = (mfn << 12) | PRESENT | RW | ACCESSED | DIRTY;
    crate::hypercall::update_va_mapping(address(page), entry, xen_abi::mmu::UVMF_INVLPG)
}

/// One page of the area as the rings crate's shared memory (32-bit words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AreaPage {
    page: usize,
}

impl AreaPage {
    /// Page `page` of the area.
    pub const fn new(page: usize) -> Self {
        AreaPage { page }
    }
}

impl rings::shared_memory::SharedMemory for AreaPage {
    fn words(&self) -> usize {
        PAGE_SIZE / 4
    }

    fn load(&self, index: usize, ordering: Ordering) -> u32 {
        assert!(index < PAGE_SIZE / 4);
        load_u32(self.page * PAGE_SIZE + index * 4, ordering)
    }

    fn store(&self, index: usize, value: u32, ordering: Ordering) {
        assert!(index < PAGE_SIZE / 4);
        store_u32(self.page * PAGE_SIZE + index * 4, value, ordering)
    }
}

#[cfg(target_os = "none")]
fn load_u32(offset: usize, ordering: Ordering) -> u32 {
    crate::arch::shared_page::load_u32(offset, ordering)
}

#[cfg(target_os = "none")]
fn store_u32(offset: usize, value: u32, ordering: Ordering) {
    crate::arch::shared_page::store_u32(offset, value, ordering)
}

#[cfg(not(target_os = "none"))]
fn load_u32(_offset: usize, _ordering: Ordering) -> u32 {
    0
}

#[cfg(not(target_os = "none"))]
fn store_u32(_offset: usize, _value: u32, _ordering: Ordering) {}
