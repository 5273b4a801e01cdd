//! The TLB flushes page-table hypercalls owe the guest.
//!
//! Only the value: the arch traits name it (`GuestMemory::flush_tlb`), and
//! the frame table's files import those traits, so nothing here may import
//! the frame table. Carrying a flush out, which needs the frame table, is
//! `carry_out`'s.

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
