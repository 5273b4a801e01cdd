//! Carrying out the TLB flush a page-table hypercall owes the guest.
//!
//! A flush is done as soon as the operation that owes it ends, before the
//! next request of a batch is read and before `*done` is written: both go
//! through the guest's translations, and a stale one may lead into a frame
//! that is no longer the guest's to reach (a table it can now rewrite, a
//! frame that became a page table).

use super::frame_table::FrameTable;
use super::tlb_flush::TlbFlush;
use crate::arch::GuestMemory;

/// Carries out `flush`, widened to everything if a frame became a page
/// table since the last flush: a writable TLB entry for it may have outlived
/// its last writable mapping.
#[inline]
pub fn carry_out(table: &mut FrameTable<'_>, guest: &mut impl GuestMemory, flush: TlbFlush) {
    let flush = if table.take_flush_request() {
        TlbFlush::All
    } else {
        flush
    };
    if flush != TlbFlush::None {
        guest.flush_tlb(flush);
    }
}
