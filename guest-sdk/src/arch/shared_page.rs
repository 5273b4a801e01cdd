//! The audited accessor for the one page the hypervisor writes while the
//! guest runs: shared_info. Every access is an atomic operation on an
//! aligned word or byte inside the page; the safe wrapper in
//! [`crate::shared_info`] gives them meaning.

use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// The page's size.
const PAGE_SIZE: usize = 4096;

unsafe extern "C" {
    /// A page-aligned page of bss, from entry.S, remapped to shared_info.
    /// `mut`: it is written (through atomics), so it must not be a static
    /// Rust may assume constant.
    static mut guest_sdk_shared_info: [u8; PAGE_SIZE];
}

/// The page's virtual address.
pub fn address() -> u64 {
    &raw mut guest_sdk_shared_info as u64
}

/// The word at `offset`, which must be 8-byte aligned and inside the page.
fn word(offset: usize) -> &'static AtomicU64 {
    assert!(offset % 8 == 0 && offset + 8 <= PAGE_SIZE, "shared_info word {offset}");
    // SAFETY: the page is page-aligned, 4096 bytes long and lives for the
    // whole run; `offset` is aligned and in bounds (checked above). The page
    // is only ever touched through these atomics, by us and (once mapped)
    // by the hypervisor, so no plain reference to it aliases them. Before
    // `shared_info::map` it is our own zeroed bss page; afterwards the
    // hypervisor keeps the shared_info frame mapped for the domain's life.
    unsafe { AtomicU64::from_ptr((address() as usize + offset) as *mut u64) }
}

/// The byte at `offset`, inside the page.
fn byte(offset: usize) -> &'static AtomicU8 {
    assert!(offset < PAGE_SIZE, "shared_info byte {offset}");
    // SAFETY: as in `word`; a byte needs no alignment.
    unsafe { AtomicU8::from_ptr((address() as usize + offset) as *mut u8) }
}

/// Reads the word at `offset`.
pub fn load(offset: usize) -> u64 {
    word(offset).load(Ordering::Acquire)
}

/// Replaces the word at `offset`; the old value.
pub fn swap(offset: usize, value: u64) -> u64 {
    word(offset).swap(value, Ordering::AcqRel)
}

/// Clears `bits` in the word at `offset`; the old value.
pub fn fetch_and(offset: usize, bits: u64) -> u64 {
    word(offset).fetch_and(bits, Ordering::AcqRel)
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
