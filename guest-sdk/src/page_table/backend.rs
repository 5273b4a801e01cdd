//! What the page-table manager needs from the machine.

use crate::XenError;
use xen_abi::mmu::{MmuUpdate, MmuextOp};

/// The hypercalls and memory accesses the page-table manager makes.
pub trait MmuBackend {
    /// `mmu_update` of `requests` for the calling domain.
    fn mmu_update(&mut self, requests: &[MmuUpdate]) -> Result<(), XenError>;
    /// `mmuext_op` of `ops` for the calling domain.
    fn mmuext_op(&mut self, ops: &[MmuextOp]) -> Result<(), XenError>;
    /// `update_va_mapping(va, entry, flags)`.
    fn update_va_mapping(&mut self, va: u64, entry: u64, flags: u64) -> Result<(), XenError>;
    /// Reads the mapped word at `va`.
    fn read_u64(&self, va: u64) -> u64;
    /// Writes the word at `va`, which is mapped writable.
    fn write_u64(&mut self, va: u64, value: u64);
}
