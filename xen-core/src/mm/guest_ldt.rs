//! A vCPU's LDT (`MMUEXT_SET_LDT`): where it lies in the guest's address
//! space, how many entries it has, and the frames faulted in so far. As on
//! Xen, a page of it is typed a descriptor page (and checked) only when the
//! CPU first reads it: the access faults on the descriptor window's empty
//! entry, and [`GuestLdt::fault_in`] maps the frame the guest's tables show
//! there. The references go when the LDT changes, the page-table base
//! switches (the LDT's address may map other frames now) or the domain
//! dies, after the window stopped showing the frames.

use super::frame_table::FrameTable;
use super::guest_walk::guest_frame;
use super::ldt_view::{LDT_PAGES, LdtView, MAX_LDT_ENTRIES};
use super::page_type::PageType;
use super::{Mfn, TypedRef};
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::{DomId, HYPERVISOR_VIRT_END};
use xen_abi::page_table_entry::PAGE_SIZE;

/// The guest's LDT and the references on its faulted-in frames.
#[derive(Debug, Default)]
pub struct GuestLdt {
    base: u64,
    entries: u32,
    pages: [Option<TypedRef>; LDT_PAGES],
}

/// The references of an LDT just replaced, to put once the CPU no longer
/// shows them.
pub type OldLdt = [Option<TypedRef>; LDT_PAGES];

impl GuestLdt {
    /// `MMUEXT_SET_LDT(linear, entries)` checks: -EINVAL for more than 8192
    /// entries, or (with any) a base not page-aligned or in the
    /// hypervisor's part of the address space or the hole.
    pub fn check(linear: u64, entries: u64) -> Result<(), Errno> {
        let guest_address = !(0x0000_8000_0000_0000..HYPERVISOR_VIRT_END).contains(&linear);
        if entries > MAX_LDT_ENTRIES || (entries != 0 && (!linear.is_multiple_of(PAGE_SIZE) || !guest_address)) {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    /// Makes (`linear`, `entries`), checked, the LDT; returns the old
    /// frames' references if it changed, `None` if it is the same.
    pub fn replace(&mut self, linear: u64, entries: u32) -> Option<OldLdt> {
        if (self.base, self.entries) == (linear, entries) {
            return None;
        }
        self.base = linear;
        self.entries = entries;
        Some(core::mem::take(&mut self.pages))
    }

    /// Forgets the pages faulted in so far (they are faulted in again from
    /// the new address space on the next read), as Xen does at every
    /// switch of page-table base; their references, if any, for the caller
    /// to put once the CPU no longer shows them.
    pub fn drop_pages(&mut self) -> Option<OldLdt> {
        if self.pages.iter().all(Option::is_none) {
            return None;
        }
        Some(core::mem::take(&mut self.pages))
    }

    /// What the CPU is to show.
    pub fn view(&self) -> LdtView {
        LdtView {
            entries: self.entries,
            pages: self.pages.each_ref().map(|page| page.as_ref().map(TypedRef::mfn)),
        }
    }

    /// The LDT's page `page` was read by the CPU and is not shown: the
    /// frame the guest's tables under `l4` map at that linear address
    /// becomes a descriptor page and is kept. The guest address to report a
    /// fault at if that cannot be, with -EINVAL.
    pub fn fault_in<M: PhysicalMemory>(
        &mut self,
        table: &mut FrameTable<'_>,
        memory: &mut M,
        owner: DomId,
        l4: Mfn,
        page: usize,
    ) -> Result<(), u64> {
        let linear = self.base + page as u64 * PAGE_SIZE;
        let in_ldt = (page as u64) * PAGE_SIZE < u64::from(self.entries) * 8;
        if page >= LDT_PAGES || !in_ldt || self.pages[page].is_some() {
            return Err(linear);
        }
        let frame = guest_frame(memory, l4, linear).ok_or(linear)?;
        let typed = table
            .get_page_and_type(memory, frame, owner, PageType::SegDesc)
            .map_err(|_| linear)?;
        self.pages[page] = Some(typed);
        Ok(())
    }

    /// Hands back every reference (the domain's death).
    pub fn take_references(&mut self) -> impl Iterator<Item = TypedRef> {
        self.entries = 0;
        core::mem::take(&mut self.pages).into_iter().flatten()
    }
}
