//! The heap behind `alloc` (feature `heap`): 8 MiB of bss handed to a
//! linked-list allocator at boot (xenstored's quotas are sized to fit it
//! with every domain at its limits).

use linked_list_allocator::LockedHeap;

/// Bytes of heap.
const HEAP_SIZE: usize = 8 << 20;

/// The heap's memory: bss, zeroed by the domain builder.
static mut HEAP_SPACE: [u8; HEAP_SIZE] = [0; HEAP_SIZE];

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

/// Gives the heap its memory; called once, before `main`.
pub fn init() {
    // SAFETY: called once at boot, before anything allocates; HEAP_SPACE
    // is used by nothing else (only its address is taken here), is
    // HEAP_SIZE bytes long and lives for the whole run.
    unsafe { HEAP.lock().init(&raw mut HEAP_SPACE as *mut u8, HEAP_SIZE) }
}
