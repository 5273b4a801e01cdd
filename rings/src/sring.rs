//! The shared ring page of `io/ring.h`: header, slots, and ring size.
//!
//! ```text
//! offset 0   req_prod   written by the front end (its private req_prod_pvt, published)
//!        4   req_event  written by the back end: "notify me when req_prod passes this"
//!        8   rsp_prod   written by the back end
//!       12   rsp_event  written by the front end
//!       16   48 bytes of padding (pvt union and __pad)
//!       64   slots: ring_size x union { request, response }
//! ```
//! Indices are free-running `u32`s that wrap at 2^32; a slot is `index & (size - 1)`.

use crate::RingError;
use crate::shared_memory::SharedMemory;
use crate::sync::Ordering;
use core::marker::PhantomData;
use core::mem::{align_of, offset_of, size_of};
use xen_abi::ring::SringHeader;
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// Word index of `req_prod`.
pub const REQ_PROD: usize = offset_of!(SringHeader, req_prod) / 4;
/// Word index of `req_event`.
pub const REQ_EVENT: usize = offset_of!(SringHeader, req_event) / 4;
/// Word index of `rsp_prod`.
pub const RSP_PROD: usize = offset_of!(SringHeader, rsp_prod) / 4;
/// Word index of `rsp_event`.
pub const RSP_EVENT: usize = offset_of!(SringHeader, rsp_event) / 4;
/// Size of the header before the first slot.
pub const HEADER_BYTES: usize = size_of::<SringHeader>();

/// A request or response type that can travel in a slot: plain bytes with no
/// padding, a whole number of 32-bit words.
pub trait RingEntry: FromBytes + IntoBytes + Immutable {}
impl<T: FromBytes + IntoBytes + Immutable> RingEntry for T {}

/// Size of one slot, the C union of `Req` and `Rsp`: the larger size rounded
/// up to the stricter alignment.
pub const fn slot_bytes<Req, Rsp>() -> usize {
    let size = if size_of::<Req>() > size_of::<Rsp>() {
        size_of::<Req>()
    } else {
        size_of::<Rsp>()
    };
    let align = if align_of::<Req>() > align_of::<Rsp>() {
        align_of::<Req>()
    } else {
        align_of::<Rsp>()
    };
    size.next_multiple_of(align)
}

/// `__RING_SIZE`: the largest power of two of slots that fits after the header
/// in `area_bytes`; 0 if not even one fits.
pub const fn ring_size(area_bytes: usize, slot_bytes: usize) -> u32 {
    if area_bytes < HEADER_BYTES || slot_bytes == 0 {
        return 0;
    }
    let slots = (area_bytes - HEADER_BYTES) / slot_bytes;
    let slots = if slots > u32::MAX as usize {
        u32::MAX
    } else {
        slots as u32
    };
    if slots == 0 {
        0
    } else {
        1 << (31 - slots.leading_zeros())
    }
}

/// A typed view of a shared ring area; the front and back ends are built on it.
pub struct SharedRing<'m, M: SharedMemory + ?Sized, Req, Rsp> {
    memory: &'m M,
    size: u32,
    slot_words: usize,
    _entries: PhantomData<fn() -> (Req, Rsp)>,
}

impl<'m, M: SharedMemory + ?Sized, Req: RingEntry, Rsp: RingEntry> SharedRing<'m, M, Req, Rsp> {
    /// Views `memory` (one page, or 2^order pages) as a ring of `Req`/`Rsp`.
    pub fn new(memory: &'m M) -> Result<Self, RingError> {
        const {
            assert!(
                size_of::<Req>().is_multiple_of(4) && size_of::<Rsp>().is_multiple_of(4),
                "ring entries must be whole 32-bit words"
            );
        }
        let slot = slot_bytes::<Req, Rsp>();
        let size = ring_size(memory.words().saturating_mul(4), slot);
        if size == 0 {
            return Err(RingError::TooSmall);
        }
        Ok(SharedRing {
            memory,
            size,
            slot_words: slot / 4,
            _entries: PhantomData,
        })
    }

    /// Number of slots (`RING_SIZE`).
    pub fn size(&self) -> u32 {
        self.size
    }

    /// `SHARED_RING_INIT`: producers at 0, both event indices at 1 (notify on
    /// the first entry), padding zeroed. Done once, by the front end, before
    /// the page is granted.
    pub fn initialise(&self) {
        for word in 0..HEADER_BYTES / 4 {
            self.memory.store(word, 0, Ordering::Relaxed);
        }
        self.memory.store(REQ_EVENT, 1, Ordering::Relaxed);
        self.memory.store(RSP_EVENT, 1, Ordering::Release);
    }

    /// First word of the slot that `index` maps to: always inside the area,
    /// whatever the index, because the index is masked to the ring size.
    fn slot_word(&self, index: u32) -> usize {
        HEADER_BYTES / 4 + (index & (self.size - 1)) as usize * self.slot_words
    }

    /// Copies the request in slot `index` out of shared memory.
    pub(crate) fn read_request(&self, index: u32) -> Req {
        let mut request = Req::new_zeroed();
        self.memory.read_run(self.slot_word(index), request.as_mut_bytes());
        request
    }

    /// Copies the response in slot `index` out of shared memory.
    pub(crate) fn read_response(&self, index: u32) -> Rsp {
        let mut response = Rsp::new_zeroed();
        self.memory.read_run(self.slot_word(index), response.as_mut_bytes());
        response
    }

    /// Writes a request into slot `index`.
    pub(crate) fn write_request(&self, index: u32, request: &Req) {
        self.memory.write_run(self.slot_word(index), request.as_bytes());
    }

    /// Writes a response into slot `index`.
    pub(crate) fn write_response(&self, index: u32, response: &Rsp) {
        self.memory.write_run(self.slot_word(index), response.as_bytes());
    }

    /// Loads a header word.
    pub(crate) fn load(&self, word: usize, ordering: Ordering) -> u32 {
        self.memory.load(word, ordering)
    }

    /// Stores a header word.
    pub(crate) fn store(&self, word: usize, value: u32, ordering: Ordering) {
        self.memory.store(word, value, ordering)
    }
}

/// The notify rule of `RING_PUSH_*_AND_CHECK_NOTIFY`: the peer asked to be
/// woken at `event`; we moved the producer index from `old` to `new`. Notify
/// iff `event` lies in `(old, new]`, computed with wrapping arithmetic.
#[inline]
pub const fn needs_notify(old: u32, new: u32, event: u32) -> bool {
    new.wrapping_sub(event) < new.wrapping_sub(old)
}
