//! The audited accessor for memory another party writes while the guest
//! runs: the shared area, pages of bss that the SDK remaps to frames the
//! hypervisor or another domain shares with us (`crate::shared_area` says
//! which page is what).
//! Every access is an atomic operation on an aligned word or a byte inside
//! the area; the safe wrappers (`crate::shared_info`, `crate::grant_table`)
//! give them meaning.

use core::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

/// Bytes in a page.
const PAGE_SIZE: usize = xen_abi::page_table_entry::PAGE_SIZE as usize;
/// Pages in the area; entry.S reserves the same number.
pub const PAGES: usize = crate::shared_area::PAGES;
/// Bytes in the area.
const AREA_SIZE: usize = PAGES * PAGE_SIZE;

unsafe extern "C" {
    /// Page-aligned pages of bss, from entry.S.
    /// `mut`: they are written (through atomics), so they must not be a
    /// static Rust may assume constant.
    static mut guest_sdk_shared_area: [u8; AREA_SIZE];
}

/// The virtual address of page `page` of the area.
pub fn address(page: usize) -> u64 {
    assert!(page < PAGES, "shared page {page}");
    &raw mut guest_sdk_shared_area as u64 + (page * PAGE_SIZE) as u64
}

/// The word at `offset` into the area, which must be 8-byte aligned and
/// inside it.
fn word(offset: usize) -> &'static AtomicU64 {
    assert!(offset % 8 == 0 && offset + 8 <= AREA_SIZE, "shared word {offset}");
    // SAFETY: the area is page-aligned, AREA_SIZE bytes long and lives for
    // the whole run; `offset` is aligned and in bounds (checked above). The
    // area is only ever touched through these atomics, by us and by whoever
    // shares a page with us, so no plain reference aliases them. A page is
    // either our own zeroed bss page or, once remapped, a frame the
    // hypervisor keeps mapped while the mapping lasts (a grant window that
    // was unmapped has no mapping: touching it faults, a guest bug the trap
    // handlers report, never undefined memory).
    unsafe { AtomicU64::from_ptr((address(0) as usize + offset) as *mut u64) }
}

/// The 32-bit word at `offset` into the area, 4-byte aligned and inside.
fn word32(offset: usize) -> &'static AtomicU32 {
    assert!(offset % 4 == 0 && offset + 4 <= AREA_SIZE, "shared word {offset}");
    // SAFETY: as in `word`, for a 4-byte aligned word.
    unsafe { AtomicU32::from_ptr((address(0) as usize + offset) as *mut u32) }
}

/// Reads the 32-bit word at `offset` with `ordering` (ring indices and
/// data, as the rings crate asks).
pub fn load_u32(offset: usize, ordering: Ordering) -> u32 {
    word32(offset).load(ordering)
}

/// Writes the 32-bit word at `offset` with `ordering`.
pub fn store_u32(offset: usize, value: u32, ordering: Ordering) {
    word32(offset).store(value, ordering)
}

/// The byte at `offset` into the area.
fn byte(offset: usize) -> &'static AtomicU8 {
    assert!(offset < AREA_SIZE, "shared byte {offset}");
    // SAFETY: as in `word`; a byte needs no alignment.
    unsafe { AtomicU8::from_ptr((address(0) as usize + offset) as *mut u8) }
}

/// Reads the word at `offset`.
pub fn load(offset: usize) -> u64 {
    word(offset).load(Ordering::Acquire)
}

/// Writes the word at `offset`.
pub fn store(offset: usize, value: u64) {
    word(offset).store(value, Ordering::Release)
}

/// Replaces the word at `offset`; the old value.
pub fn swap(offset: usize, value: u64) -> u64 {
    word(offset).swap(value, Ordering::AcqRel)
}

/// Replaces the word at `offset` with `new` if it holds `current`.
pub fn compare_exchange(offset: usize, current: u64, new: u64) -> Result<u64, u64> {
    word(offset).compare_exchange(current, new, Ordering::AcqRel, Ordering::Acquire)
}

/// Clears the bits not in `keep` in the word at `offset`; the old value.
pub fn fetch_and(offset: usize, keep: u64) -> u64 {
    word(offset).fetch_and(keep, Ordering::AcqRel)
}

/// Sets `bits` in the word at `offset`; the old value.
pub fn fetch_or(offset: usize, bits: u64) -> u64 {
    word(offset).fetch_or(bits, Ordering::AcqRel)
}

/// Reads the byte at `offset`.
pub fn load_u8(offset: usize) -> u8 {
    byte(offset).load(Ordering::SeqCst)
}

/// Writes the byte at `offset`. Sequentially consistent: clearing the
/// upcall mask must not pass the following read of the upcall-pending
/// byte, or an upcall raised in between would wait for the next event.
pub fn store_u8(offset: usize, value: u8) {
    byte(offset).store(value, Ordering::SeqCst)
}
