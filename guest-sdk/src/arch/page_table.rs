//! The page-table manager's backend on a real hypervisor.

use crate::XenError;
use crate::hypercall;
use crate::page_table::{MmuBackend, PageTableManager};
use crate::start_info::StartInfo;
use xen_abi::mmu::{MmuUpdate, MmuextOp};

unsafe extern "C" {
    /// Where the guest is linked: an absolute symbol from the linker script.
    static __guest_virt_base: u8;
}

/// Hypercalls to the hypervisor we run on, and this guest's own memory.
pub struct XenMmu;

impl MmuBackend for XenMmu {
    fn mmu_update(&mut self, requests: &[MmuUpdate]) -> Result<(), XenError> {
        hypercall::mmu_update(requests).map_err(|(error, _)| error)
    }

    fn mmuext_op(&mut self, ops: &[MmuextOp]) -> Result<(), XenError> {
        hypercall::mmuext_op(ops)
    }

    fn update_va_mapping(&mut self, va: u64, entry: u64, flags: u64) -> Result<(), XenError> {
        hypercall::update_va_mapping(va, entry, flags)
    }

    fn read_u64(&self, va: u64) -> u64 {
        // SAFETY: the manager reads only the p2m list, the M2P and page
        // tables inside the bootstrap mapping, all mapped for the life of
        // the domain; volatile because the hypervisor changes tables.
        unsafe { (va as *const u64).read_volatile() }
    }

    fn write_u64(&mut self, va: u64, value: u64) {
        // SAFETY: the manager writes only pool frames it has just taken,
        // which the bootstrap mapping maps writable and nothing else uses.
        unsafe { (va as *mut u64).write_volatile(value) }
    }
}

/// A page-table manager for this guest, as the builder left it.
pub fn boot_manager(info: &StartInfo) -> PageTableManager<XenMmu> {
    let virt_base = &raw const __guest_virt_base as u64;
    PageTableManager::new(XenMmu, info, virt_base)
}
