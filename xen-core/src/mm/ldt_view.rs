//! What the CPU's LDT is to show: the descriptor window's LDT pages.

use super::Mfn;
use xen_abi::page_table_entry::PAGE_SIZE;

/// Most entries an LDT may have.
pub const MAX_LDT_ENTRIES: u64 = 8192;
/// Pages of the largest LDT.
pub const LDT_PAGES: usize = (MAX_LDT_ENTRIES * 8 / PAGE_SIZE) as usize;

/// The LDT's entries and the frames of its pages faulted in so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LdtView {
    /// Entries (0: no LDT).
    pub entries: u32,
    /// The frames of its pages, where faulted in.
    pub pages: [Option<Mfn>; LDT_PAGES],
}
