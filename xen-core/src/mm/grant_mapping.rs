//! Grant mappings in a PV guest's page tables: the L1 entry that
//! `map_grant_ref` writes for a frame another domain granted, and its
//! removal by `unmap_grant_ref` (`GNTTABOP_*` in Xen's `grant_table.h`).
//!
//! The entry is marked with the grant bit (`GNTTAB`, which no guest-written
//! entry may have) and holds the same references as any L1 entry: a general
//! one on the granted frame, owned by the granter, and a writable typed one
//! if the mapping is writable, so the frame cannot become a page table
//! while mapped. Only [`FrameTable::unmap_grant`] removes it, checking that
//! it still maps the frame it was made for with the access it was made
//! with (XSA-224), and dropping exactly what the map took. A guest edit of
//! the entry is refused (`mod_entry`); dropping it with its page table is
//! counted ([`FrameTable::take_implicit_grant_unmaps`]).

use super::budget::Budget;
use super::frame_table::FrameTable;
use super::page_type::TableLevel;
use super::pte_rules::{ACCESSED, DIRTY, GNTTAB, NX, PRESENT, RW, adjust_entry, entry_address, is_grant_mapping};
use super::update_va_mapping::l1_for;
use super::{Mfn, PageType};
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

/// One grant mapping, as the maptrack records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantMapping {
    /// The virtual address mapped, in the mapper's current address space.
    pub va: u64,
    /// The granted frame.
    pub frame: Mfn,
    /// The domain that owns it.
    pub granter: DomId,
    /// Whether the mapping allows writes.
    pub writable: bool,
    /// The guest's own bits for the entry (`GNTMAP_guest_avail0` on, three
    /// bits of the map flags), kept in the entry's available bits 9-11.
    pub guest_avail: u8,
}

impl GrantMapping {
    /// The L1 entry that maps it, as installed (USER forced for the guest
    /// kernel, no execution: Xen's `GRANT_PTE_FLAGS`).
    pub fn entry(&self) -> u64 {
        let rw = if self.writable { RW } else { 0 };
        let avail = u64::from(self.guest_avail & 7) << 9;
        adjust_entry(
            self.frame.address() | PRESENT | ACCESSED | DIRTY | NX | GNTTAB | rw | avail,
            TableLevel::L1,
        )
    }
}

impl FrameTable<'_> {
    /// Maps `mapping` into the address space of `mapper` whose base (L4) is
    /// `base`, replacing whatever ordinary entry maps its address. -EINVAL
    /// for an address with no L1 or one a grant already maps; -EBUSY (from
    /// the frame checks) for a frame that is not the granter's, or cannot
    /// be mapped writable because it is a page table.
    pub fn map_grant<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        mapper: DomId,
        base: Mfn,
        mapping: &GrantMapping,
    ) -> Result<(), Errno> {
        let address = self.entry_mapping(memory, mapper, base, mapping.va)?;
        let old = memory.read_u64(address);
        if is_grant_mapping(old) {
            return Err(Errno::EINVAL);
        }
        self.get_page_raw(mapping.frame, mapping.granter)
            .map_err(|_| Errno::EBUSY)?;
        if mapping.writable && self.begin_type(mapping.frame, PageType::Writable).is_err() {
            let _ = self.put_page_raw(mapping.frame);
            return Err(Errno::EBUSY);
        }
        memory.write_u64(address, mapping.entry());
        self.release_entry(memory, old, TableLevel::L1, &mut Budget::unlimited());
        Ok(())
    }

    /// Removes `mapping` from the address space of `mapper` rooted at
    /// `base`: its entry must be exactly the one [`FrameTable::map_grant`]
    /// wrote (the A and D bits aside), or nothing changes and -EINVAL comes
    /// back. The entry becomes empty and the map's references are dropped.
    pub fn unmap_grant<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        mapper: DomId,
        base: Mfn,
        mapping: &GrantMapping,
    ) -> Result<(), Errno> {
        let address = self.entry_mapping(memory, mapper, base, mapping.va)?;
        let current = memory.read_u64(address);
        let ignored = ACCESSED | DIRTY;
        if current & !ignored != mapping.entry() & !ignored {
            return Err(Errno::EINVAL);
        }
        memory.write_u64(address, 0);
        if mapping.writable {
            self.put_type_raw(memory, mapping.frame);
        }
        let _ = self.put_page_raw(mapping.frame);
        Ok(())
    }

    /// The machine address of the L1 entry that maps `va` under `base`.
    fn entry_mapping(&self, memory: &impl PhysicalMemory, mapper: DomId, base: Mfn, va: u64) -> Result<u64, Errno> {
        let l1 = l1_for(self, memory, mapper, base, va)?;
        Ok(entry_address(l1, ((va >> 12) & 511) as usize))
    }
}
