//! DS, ES, FS and GS across a switch of vCPUs, as Xen's `save_segments` and
//! `load_segments` keep them.
//!
//! A PV guest loads these selectors itself, in ring 3, without a trap, and a
//! selector load into FS or GS also replaces that register's base. So when
//! a vCPU leaves the CPU the hypervisor reads back the four selectors, the
//! FS base and the GS base of the mode the vCPU is in (the other mode's base
//! lies in the shadow register, which the guest cannot change); when it
//! comes back they are loaded again, the selectors first and then the bases.
//!
//! Between the two the guest may have changed the descriptor a selector
//! names (`update_descriptor`, `set_gdt`, `MMUEXT_SET_LDT`): a selector the
//! CPU would now refuse is loaded as null instead and the guest hears of it
//! through its failsafe callback ([`super::bounce::bounce_failsafe`]), as on
//! Xen. Which selectors the CPU takes is decided here, from the descriptors
//! as the CPU will read them, so that the kernel's loads never fault.

use super::data_selectors::DataSelectors;
use super::pv_domain::PvDomain;
use crate::arch::{GuestMemory, PhysicalMemory, Platform};
use crate::mm::FrameTable;
use xen_abi::page_table_entry::PAGE_SIZE;
use xen_abi::trap::{FIRST_RESERVED_GDT_ENTRY, FLAT_RING3_CS32, FLAT_RING3_CS64, FLAT_RING3_DS32};

/// Descriptor bits a data segment register's selector needs: present, a
/// code or data segment, DPL 3 (every descriptor a PV guest has is DPL 3;
/// a lower one could not have been loaded from ring 3).
const PRESENT: u64 = 1 << 47;
const CODE_OR_DATA: u64 = 1 << 44;
const DPL_3: u64 = 3 << 45;
const CODE: u64 = 1 << 43;
const READABLE: u64 = 1 << 41;
/// Selector bits: the table indicator (LDT) and the requested privilege.
const TABLE_LDT: u16 = 4;
const RPL: u16 = 3;

impl PvDomain {
    /// Its saved selectors as the CPU can load them now, each one it would
    /// refuse replaced by null; and whether none was. An LDT page a selector
    /// needs is faulted in first (`frames`), as the CPU's load would.
    pub fn loadable_selectors(
        &mut self,
        frames: &mut FrameTable<'_>,
        platform: &mut impl Platform,
    ) -> (DataSelectors, bool) {
        let saved = self.vcpu.selectors;
        if saved == DataSelectors::default() {
            // The common case (64-bit code needs no data selectors).
            return (saved, true);
        }
        let loadable = saved.to_array().map(|selector| {
            if self.loads(frames, platform, selector) {
                selector
            } else {
                0
            }
        });
        (DataSelectors::from_array(loadable), loadable == saved.to_array())
    }

    /// Whether the CPU takes `selector` into a data segment register.
    fn loads(&mut self, frames: &mut FrameTable<'_>, platform: &mut impl Platform, selector: u16) -> bool {
        let index = usize::from(selector >> 3);
        if selector & TABLE_LDT != 0 {
            return self.ldt_descriptor(frames, platform, index).is_some_and(loadable);
        }
        if index == 0 {
            // The null selector, whatever its RPL.
            return true;
        }
        if index >= FIRST_RESERVED_GDT_ENTRY {
            // Xen's own entries: only its flat ring-3 segments are the
            // guest's (the hypervisor's, DPL 0, can never have been loaded).
            let flat = [FLAT_RING3_CS32, FLAT_RING3_DS32, FLAT_RING3_CS64];
            return flat.contains(&(selector | RPL));
        }
        self.gdt_descriptor(platform.memory(), index).is_some_and(loadable)
    }

    /// LDT entry `index` as the CPU will read it, faulting its page in
    /// through the kernel page tables (as Xen maps LDT pages) if needed.
    fn ldt_descriptor(
        &mut self,
        frames: &mut FrameTable<'_>,
        platform: &mut impl Platform,
        index: usize,
    ) -> Option<u64> {
        let view = self.vcpu.ldt.view();
        if index >= view.entries as usize {
            return None;
        }
        let byte = index as u64 * 8;
        let page = (byte / PAGE_SIZE) as usize;
        if view.pages[page].is_none() {
            let base = self.vcpu.kernel_base.as_ref()?.mfn();
            let owner = self.id();
            self.vcpu
                .ldt
                .fault_in(frames, platform.memory(), owner, base, page)
                .ok()?;
            platform.guest().load_ldt(&self.vcpu.ldt.view());
        }
        let frame = self.vcpu.ldt.view().pages[page]?;
        Some(platform.memory().read_u64(frame.address() + byte % PAGE_SIZE))
    }
}

/// Whether a descriptor can be loaded into DS, ES, FS or GS from any ring:
/// a present DPL-3 data segment or readable code segment.
fn loadable(descriptor: u64) -> bool {
    let needed = PRESENT | CODE_OR_DATA | DPL_3;
    descriptor & needed == needed && (descriptor & CODE == 0 || descriptor & READABLE != 0)
}
