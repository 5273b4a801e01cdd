//! Byte rings: the console page (`io/console.h`) and the xenstore page
//! (`io/xs_wire.h`).
//!
//! Each direction is a power-of-two byte array with a free-running consumer and
//! producer index (`u32`, wrapping). The producer writes bytes at
//! `prod & (size - 1)`, then publishes `prod`; the consumer reads up to `prod`,
//! then publishes `cons`. Writes and reads may be partial: a producer writes what
//! fits, a consumer reads what is there. These rings have no event indices:
//! every publication is followed by an event-channel notification.

use crate::RingError;
use crate::shared_memory::SharedMemory;
use crate::sync::Ordering;
use core::mem::offset_of;
use xen_abi::console::{XENCONS_IN_SIZE, XENCONS_OUT_SIZE, XenconsInterface};
use xen_abi::xs_wire::{XENSTORE_RING_SIZE, XenstoreDomainInterface};

/// Where one direction of a byte ring lives in its page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRingLayout {
    /// Byte offset of the data array.
    pub data_offset: usize,
    /// Size of the data array, a power of two.
    pub size: u32,
    /// Byte offset of the consumer index.
    pub cons_offset: usize,
    /// Byte offset of the producer index.
    pub prod_offset: usize,
}

/// `xencons_interface.in`: console input, written by the back end.
pub const CONSOLE_IN: ByteRingLayout = ByteRingLayout {
    data_offset: offset_of!(XenconsInterface, input),
    size: XENCONS_IN_SIZE as u32,
    cons_offset: offset_of!(XenconsInterface, in_cons),
    prod_offset: offset_of!(XenconsInterface, in_prod),
};
/// `xencons_interface.out`: console output, written by the guest.
pub const CONSOLE_OUT: ByteRingLayout = ByteRingLayout {
    data_offset: offset_of!(XenconsInterface, output),
    size: XENCONS_OUT_SIZE as u32,
    cons_offset: offset_of!(XenconsInterface, out_cons),
    prod_offset: offset_of!(XenconsInterface, out_prod),
};
/// `xenstore_domain_interface.req`: requests, written by the guest.
pub const XENSTORE_REQUESTS: ByteRingLayout = ByteRingLayout {
    data_offset: offset_of!(XenstoreDomainInterface, req),
    size: XENSTORE_RING_SIZE as u32,
    cons_offset: offset_of!(XenstoreDomainInterface, req_cons),
    prod_offset: offset_of!(XenstoreDomainInterface, req_prod),
};
/// `xenstore_domain_interface.rsp`: replies and watch events, written by xenstored.
pub const XENSTORE_RESPONSES: ByteRingLayout = ByteRingLayout {
    data_offset: offset_of!(XenstoreDomainInterface, rsp),
    size: XENSTORE_RING_SIZE as u32,
    cons_offset: offset_of!(XenstoreDomainInterface, rsp_cons),
    prod_offset: offset_of!(XenstoreDomainInterface, rsp_prod),
};

impl ByteRingLayout {
    /// Whether the layout fits in `words` words of shared memory.
    fn fits(&self, words: usize) -> bool {
        let end = [
            self.data_offset + self.size as usize,
            self.cons_offset + 4,
            self.prod_offset + 4,
        ];
        self.size.is_power_of_two()
            && self.data_offset.is_multiple_of(4)
            && self.cons_offset.is_multiple_of(4)
            && self.prod_offset.is_multiple_of(4)
            && end.iter().all(|&end| end <= words * 4)
    }

    /// Word and byte-within-word of ring position `index`.
    fn position(&self, index: u32) -> (usize, usize) {
        let byte = self.data_offset + (index & (self.size - 1)) as usize;
        (byte / 4, byte % 4)
    }
}

/// Reads the byte at `(word, lane)`.
fn load_byte(memory: &(impl SharedMemory + ?Sized), (word, lane): (usize, usize)) -> u8 {
    memory.load(word, Ordering::Relaxed).to_ne_bytes()[lane]
}

/// Writes the byte at `(word, lane)`. The other bytes of the word are written
/// back unchanged: only the consumer, which never writes data, shares them.
fn store_byte(memory: &(impl SharedMemory + ?Sized), (word, lane): (usize, usize), value: u8) {
    let mut bytes = memory.load(word, Ordering::Relaxed).to_ne_bytes();
    bytes[lane] = value;
    memory.store(word, u32::from_ne_bytes(bytes), Ordering::Relaxed);
}

/// The writing side of one direction.
pub struct ByteProducer<'m, M: SharedMemory + ?Sized> {
    memory: &'m M,
    layout: ByteRingLayout,
    /// Our producer index; the shared copy is never read back.
    prod: u32,
}

impl<'m, M: SharedMemory + ?Sized> ByteProducer<'m, M> {
    /// Attaches to a direction, continuing from the producer index found in
    /// the page (0 on a fresh page).
    pub fn attach(memory: &'m M, layout: ByteRingLayout) -> Result<Self, RingError> {
        if !layout.fits(memory.words()) {
            return Err(RingError::TooSmall);
        }
        let prod = memory.load(layout.prod_offset / 4, Ordering::Relaxed);
        Ok(ByteProducer { memory, layout, prod })
    }

    /// Bytes the consumer has not read yet; checks the consumer's index.
    pub fn unread(&self) -> Result<u32, RingError> {
        // Acquire: the consumer finished reading bytes before publishing cons.
        let cons = self.memory.load(self.layout.cons_offset / 4, Ordering::Acquire);
        let unread = self.prod.wrapping_sub(cons);
        if unread > self.layout.size {
            return Err(RingError::Corrupt {
                peer_index: cons,
                our_index: self.prod,
            });
        }
        Ok(unread)
    }

    /// Writes as much of `data` as fits and publishes it; returns how much.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, RingError> {
        let free = (self.layout.size - self.unread()?) as usize;
        let count = free.min(data.len());
        for (offset, &byte) in data[..count].iter().enumerate() {
            store_byte(
                self.memory,
                self.layout.position(self.prod.wrapping_add(offset as u32)),
                byte,
            );
        }
        self.prod = self.prod.wrapping_add(count as u32);
        // Release: the consumer sees the bytes before the index.
        self.memory
            .store(self.layout.prod_offset / 4, self.prod, Ordering::Release);
        Ok(count)
    }
}

/// The reading side of one direction.
pub struct ByteConsumer<'m, M: SharedMemory + ?Sized> {
    memory: &'m M,
    layout: ByteRingLayout,
    /// Our consumer index; the shared copy is never read back.
    cons: u32,
}

impl<'m, M: SharedMemory + ?Sized> ByteConsumer<'m, M> {
    /// Attaches to a direction, continuing from the consumer index found in
    /// the page (0 on a fresh page).
    pub fn attach(memory: &'m M, layout: ByteRingLayout) -> Result<Self, RingError> {
        if !layout.fits(memory.words()) {
            return Err(RingError::TooSmall);
        }
        let cons = memory.load(layout.cons_offset / 4, Ordering::Relaxed);
        Ok(ByteConsumer { memory, layout, cons })
    }

    /// Bytes published and not read yet; checks the producer's index.
    pub fn available(&self) -> Result<u32, RingError> {
        // Acquire: bytes are read only after the index that published them.
        let prod = self.memory.load(self.layout.prod_offset / 4, Ordering::Acquire);
        let available = prod.wrapping_sub(self.cons);
        if available > self.layout.size {
            return Err(RingError::Corrupt {
                peer_index: prod,
                our_index: self.cons,
            });
        }
        Ok(available)
    }

    /// Reads up to `out.len()` published bytes and frees their space; returns
    /// how many were read.
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, RingError> {
        let count = (self.available()? as usize).min(out.len());
        for (offset, byte) in out[..count].iter_mut().enumerate() {
            *byte = load_byte(self.memory, self.layout.position(self.cons.wrapping_add(offset as u32)));
        }
        self.cons = self.cons.wrapping_add(count as u32);
        // Release: the producer may reuse the space only after we read it.
        self.memory
            .store(self.layout.cons_offset / 4, self.cons, Ordering::Release);
        Ok(count)
    }
}
