//! Atomics and fences: `core`'s, or loom's when model checking (`--cfg loom`).

#[cfg(loom)]
pub use loom::sync::atomic::{AtomicU32, Ordering, fence};

#[cfg(not(loom))]
pub use core::sync::atomic::{AtomicU32, Ordering, fence};

/// `xen_mb()`: a full barrier, ordering our earlier stores before our later
/// loads. Both sides of every wake-up handshake use it, which is what makes the
/// store-then-load pattern (Dekker's) sound under the C++/Rust memory model.
#[inline]
pub fn full_barrier() {
    fence(Ordering::SeqCst);
}
