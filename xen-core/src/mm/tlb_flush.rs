//! The TLB flushes page-table hypercalls owe the guest, and when they are
//! carried out.
//!
//! A flush is done as soon as the operation that owes it ends, before the
//! next request of a batch is read and before `*done` is written: both go
//! through the guest's translations, and a stale one may lead into a frame
//! that is no longer the guest's to reach (a table it can now rewrite, a
//! frame that became a page table).

use super::frame_table::FrameTable;
use crate::arch::GuestMemory;

/// A TLB flush the kernel owes the guest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlbFlush {
    /// Nothing.
    #[default]
    None,
    /// One page (`invlpg`), at a canonical address.
    Page(u64),
    /// Everything (a CR3 reload).
    All,
}

impl TlbFlush {
    /// The flush that covers both this one and `other`.
    pub fn and(self, other: TlbFlush) -> TlbFlush {
        match (self, other) {
            (TlbFlush::None, flush) | (flush, TlbFlush::None) => flush,
            (TlbFlush::Page(a), TlbFlush::Page(b)) if a == b => TlbFlush::Page(a),
            _ => TlbFlush::All,
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::TlbFlush;

    #[test]
    fn merging_keeps_one_page_and_widens_two_to_everything() {
        assert_eq!(TlbFlush::None.and(TlbFlush::Page(0x1000)), TlbFlush::Page(0x1000));
        assert_eq!(
            TlbFlush::Page(0x1000).and(TlbFlush::Page(0x1000)),
            TlbFlush::Page(0x1000)
        );
        assert_eq!(TlbFlush::Page(0x1000).and(TlbFlush::Page(0x2000)), TlbFlush::All);
        assert_eq!(TlbFlush::All.and(TlbFlush::None), TlbFlush::All);
    }
}
