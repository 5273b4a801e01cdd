//! Shared circular rings for Xen split drivers, byte for byte as in Xen's
//! `io/ring.h`, `io/console.h` and `io/xs_wire.h`.
//!
//! A split driver's frontend and backend share one page (or 2^order pages):
//! a 64-byte header of free-running 32-bit indices, then a power-of-two array of
//! slots, each the union of a request and a response. [`FrontRing`] produces
//! requests and consumes responses; [`BackRing`] does the reverse. Both follow
//! Xen's notification-suppression protocol: after publishing, notify the peer
//! only if its event index falls in the newly published range; before sleeping,
//! set your own event index and check once more, so no wake-up is lost.
//!
//! The console and xenstore pages carry byte rings instead ([`byte_ring`]).
//!
//! **The peer is not trusted.** It can write any value into any shared word at
//! any time. Our own indices are kept privately and only ever copied out; the
//! peer's indices are checked against what the protocol allows, and a ring whose
//! peer breaks the rules reports [`RingError::Corrupt`], after which the driver
//! should disconnect. No value in shared memory can make this crate read or
//! write outside the ring, loop, or panic.
//!
//! Shared memory is reached only through the [`SharedMemory`] trait: 32-bit
//! atomic words. Real pages become `&[AtomicU32]` through the one unsafe
//! function of the crate, [`shared_memory::words_from_raw`]; tests use owned
//! pages, and loom models use loom's atomics through the same trait.
#![cfg_attr(not(any(feature = "std", test, loom)), no_std)]
#![deny(unsafe_code)]

pub mod back_ring;
pub mod byte_ring;
pub mod front_ring;
pub mod ring_error;
pub mod shared_memory;
pub mod sring;
pub mod sync;

pub use back_ring::BackRing;
pub use front_ring::FrontRing;
pub use ring_error::RingError;
pub use shared_memory::SharedMemory;
