//! The boot tables that map the kernel, found by walking them.

use guest_sdk::page_table::{PageTableError, XenMmu};
use guest_sdk::start_info::StartInfo;

/// The page-table manager over this guest's hypervisor.
pub type Manager = guest_sdk::page_table::PageTableManager<XenMmu>;

/// The boot tables that map the kernel, found by walking them.
pub struct BootTables {
    /// The L4.
    pub l4: u64,
    /// The L3 under it.
    pub l3: u64,
    /// The L2 under that.
    pub l2: u64,
    /// The L1 under that.
    pub l1: u64,
}

/// The L4, L3, L2 and L1 that map start_info.
pub fn walk_boot_tables(tables: &Manager, info: &'static StartInfo) -> Result<BootTables, PageTableError> {
    let va = info as *const StartInfo as u64;
    let [l4, l3, l2, l1] = tables
        .table_path(tables.boot_root(info).mfn, va)?
        .ok_or(PageTableError::NotMapped(va))?;
    Ok(BootTables { l4, l3, l2, l1 })
}
