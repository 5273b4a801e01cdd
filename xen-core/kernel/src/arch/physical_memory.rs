//! Windows onto physical memory: the boot identity map, then the direct map.

use core::sync::atomic::{AtomicU64, Ordering};
use heapless::Vec;
use spin::Once;
use xen_core::arch::PhysicalMemory;
use xen_core::mm::layout::DIRECT_MAP_BASE;
use xen_core::mm::mfn::PAGE_SIZE;
use xen_core::mm::{Mfn, PhysRange};

/// Physical memory seen through a window at the fixed virtual offset
/// `OFFSET`. The offset is part of the type, not a field: every hypercall
/// builds a machine holding a window, and a constant folds into each access
/// where a field would be kept in a register or spilled to the stack.
#[derive(Clone, Copy)]
pub struct PhysicalWindow<const OFFSET: u64>;

/// The boot identity map of the low 4 GiB, live until the hypervisor's own
/// page tables are loaded. Only page-table frames being built are touched
/// through it, and the frame allocator hands out nothing above 4 GiB.
pub type IdentityWindow = PhysicalWindow<0>;
/// The direct map in slots 262–271, live once our own tables are loaded.
pub type DirectMap = PhysicalWindow<DIRECT_MAP_BASE>;

/// The window of [`IdentityWindow`].
pub const IDENTITY: IdentityWindow = PhysicalWindow;
/// The window of [`DirectMap`].
pub const DIRECT_MAP: DirectMap = PhysicalWindow;

impl<const OFFSET: u64> PhysicalWindow<OFFSET> {
    fn pointer(self, address: u64) -> *mut u64 {
        OFFSET.wrapping_add(address) as *mut u64
    }
}

impl<const OFFSET: u64> PhysicalMemory for PhysicalWindow<OFFSET> {
    fn read_u64(&self, address: u64) -> u64 {
        // SAFETY: callers pass addresses of page-table frames they allocated,
        // which the current window maps; volatile because the CPU also reads
        // (and sets A/D bits in) these words.
        unsafe { self.pointer(address).read_volatile() }
    }

    fn write_u64(&mut self, address: u64, value: u64) {
        // SAFETY: as for `read_u64`; the frame belongs to the page-table builder,
        // so no Rust reference to it exists.
        unsafe { self.pointer(address).write_volatile(value) }
    }

    fn fetch_or_u64(&mut self, address: u64, bits: u64) -> u64 {
        // SAFETY: callers pass aligned addresses of frames the hypervisor
        // owns (shared_info), which the direct map covers; the guest may
        // write the same word, which is why the access is atomic.
        let word = unsafe { AtomicU64::from_ptr(self.pointer(address)) };
        word.fetch_or(bits, Ordering::SeqCst)
    }

    fn fetch_and_u64(&mut self, address: u64, bits: u64) -> u64 {
        // SAFETY: as for `fetch_or_u64`.
        let word = unsafe { AtomicU64::from_ptr(self.pointer(address)) };
        word.fetch_and(bits, Ordering::SeqCst)
    }

    fn compare_exchange_u64(&mut self, address: u64, current: u64, new: u64) -> Result<u64, u64> {
        // SAFETY: as for `fetch_or_u64`: an aligned word of a frame the
        // direct map covers (a guest's grant table entry), which the guest
        // may change at the same time.
        let word = unsafe { AtomicU64::from_ptr(self.pointer(address)) };
        word.compare_exchange(current, new, Ordering::SeqCst, Ordering::SeqCst)
    }

    fn copy_bytes(&mut self, from: u64, to: u64, len: usize) {
        // SAFETY: callers pass ranges inside frames they hold references
        // on (a grant copy's source and destination, each within one page),
        // which the direct map covers; `copy` allows them to overlap. No
        // Rust reference to guest frames exists, and on one CPU nothing
        // else writes them during the copy.
        unsafe { core::ptr::copy(self.pointer(from) as *const u8, self.pointer(to) as *mut u8, len) }
    }

    fn zero_frame(&mut self, mfn: Mfn) {
        for word in 0..PAGE_SIZE / 8 {
            self.write_u64(mfn.address() + word * 8, 0);
        }
    }
}

/// Physical ranges the direct map covers, recorded when it goes live.
static DIRECT_MAPPED: Once<Vec<PhysRange, 64>> = Once::new();

/// Records what the direct map covers; called once, right after loading CR3.
pub fn set_direct_mapped(ranges: Vec<PhysRange, 64>) {
    DIRECT_MAPPED.call_once(|| ranges);
}

/// The bytes of a reserved physical range, read through the direct map.
///
/// Only for ranges reserved in the memory map for the life of the hypervisor
/// (the boot bundle): the frame allocator never hands their frames out, and
/// nothing writes them, so a shared `'static` slice is sound. Returns `None`
/// if the direct map does not cover the whole range.
pub fn reserved_bytes(range: PhysRange) -> Option<&'static [u8]> {
    let covered = DIRECT_MAPPED
        .get()?
        .iter()
        .any(|mapped| mapped.start <= range.start && range.end <= mapped.end);
    if !covered || range.is_empty() {
        return None;
    }
    let start = DIRECT_MAP.pointer(range.start) as *const u8;
    // SAFETY: the direct map covers the whole range (checked above); the range is
    // reserved, so no frame in it is ever allocated or written (see above).
    Some(unsafe { core::slice::from_raw_parts(start, range.len() as usize) })
}
