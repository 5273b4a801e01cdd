//! Switching from the boot page tables to the hypervisor's own.

use super::physical_memory::{IDENTITY, set_direct_mapped};
use super::stacks::Stack;
use core::ptr::addr_of;
use heapless::Vec;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::registers::model_specific::{Efer, EferFlags};
use x86_64::structures::paging::PhysFrame;
use x86_64::{PhysAddr, VirtAddr};
use xen_core::arch::FrameSource;
use xen_core::mm::PhysRange;
use xen_core::mm::hypervisor_page_table::{HypervisorPageTable, MapError, PteFlags};
use xen_core::mm::layout::{DIRECT_MAP_BASE, HYPERVISOR_IMAGE_BASE};
use xen_core::mm::mfn::PAGE_SIZE;
use xen_core::mm::tlb_flush::TlbFlush;

unsafe extern "C" {
    static __text_start: u8;
    static __rodata_start: u8;
    static __data_start: u8;
    static __image_end: u8;
}

/// What the new tables map, for the boot log.
pub struct PagingSummary {
    /// The L4 now in CR3.
    pub table: HypervisorPageTable,
    /// Whether no-execute protection is on.
    pub no_execute: bool,
}

/// Whether the CPU supports the NX bit (CPUID 0x8000_0001 EDX bit 20).
fn cpu_has_no_execute() -> bool {
    let extended = core::arch::x86_64::__cpuid(0x8000_0000);
    extended.eax >= 0x8000_0001 && core::arch::x86_64::__cpuid(0x8000_0001).edx & (1 << 20) != 0
}

/// Builds the hypervisor's page tables and loads them.
///
/// The image is mapped at its link address with per-section permissions (text
/// executable, read-only data read-only, nothing writable executable) and with
/// the stack guard pages left out; `direct_map` lists the physical ranges to map
/// at `DIRECT_MAP_BASE`, already rounded to 2 MiB.
pub fn build_and_switch(
    direct_map: Vec<PhysRange, 64>,
    frames: &mut impl FrameSource,
) -> Result<PagingSummary, MapError> {
    let no_execute = cpu_has_no_execute();
    let nx = if no_execute {
        PteFlags::NO_EXECUTE
    } else {
        PteFlags::empty()
    };
    let mut window = IDENTITY;
    let mut table = HypervisorPageTable::new(&mut window, frames)?;

    let text = addr_of!(__text_start) as u64;
    let rodata = addr_of!(__rodata_start) as u64;
    let data = addr_of!(__data_start) as u64;
    let end = addr_of!(__image_end) as u64;
    let guards = Stack::ALL.map(Stack::guard);
    let mut page = text;
    while page < end {
        let flags = if page < rodata {
            PteFlags::empty()
        } else if page < data {
            nx
        } else {
            PteFlags::WRITABLE | nx
        };
        if !guards.contains(&page) {
            let physical = page - HYPERVISOR_IMAGE_BASE;
            table.map_range(&mut window, frames, page, physical, PAGE_SIZE, flags)?;
        }
        page += PAGE_SIZE;
    }

    for range in &direct_map {
        let va = DIRECT_MAP_BASE + range.start;
        table.map_range(
            &mut window,
            frames,
            va,
            range.start,
            range.len(),
            PteFlags::WRITABLE | nx,
        )?;
    }

    super::descriptor_window::map(
        &mut table,
        &mut window,
        frames,
        super::gdt::reserved_page_physical(),
        no_execute,
    )?;

    if no_execute {
        // SAFETY: the CPU supports NX (checked), and enabling it only makes
        // entries with bit 63 non-executable; the boot tables have none.
        unsafe { Efer::update(|flags| flags.insert(EferFlags::NO_EXECUTE_ENABLE)) };
    }
    let root = PhysFrame::containing_address(PhysAddr::new(table.root().address()));
    // SAFETY: the new tables map the whole image (code, data, the stack in use)
    // at the same virtual addresses as the boot tables, so execution continues;
    // nothing refers to the low identity map afterwards, boot info was copied.
    unsafe { Cr3::write(root, Cr3Flags::empty()) };
    super::gdt::use_window();
    set_direct_mapped(direct_map);
    Ok(PagingSummary { table, no_execute })
}

/// Where the linker script starts the image (`. = 1M`).
const IMAGE_PHYS_START: u64 = 0x10_0000;

/// The physical memory the loader placed the image in, stacks and bss included.
pub fn image_physical_range() -> PhysRange {
    PhysRange::new(IMAGE_PHYS_START, addr_of!(__image_end) as u64 - HYPERVISOR_IMAGE_BASE)
}

/// Loads `l4` into CR3: switches to a guest's page tables, which share the
/// hypervisor's slots, so the hypervisor keeps running unchanged. Also drops
/// every TLB entry: CR4.PGE is off, so none is global.
pub fn load_root(l4: xen_core::mm::Mfn) {
    let root = PhysFrame::containing_address(PhysAddr::new(l4.address()));
    // SAFETY: callers pass a validated guest L4 (the frame table refuses any
    // other as a base pointer), and validation fills slots 256-271 with the
    // hypervisor's, so code, stack and data stay mapped.
    unsafe { Cr3::write(root, Cr3Flags::empty()) };
}

/// Drops the TLB entries `flush` names.
pub fn flush_tlb(flush: TlbFlush) {
    match flush {
        TlbFlush::None => {}
        TlbFlush::Page(va) => {
            // `TlbFlush::Page` holds canonical addresses only (the hypercalls
            // refuse others before asking for a flush), and truncation keeps
            // `invlpg` from faulting in ring 0 whatever happens.
            debug_assert!(xen_core::mm::layout::is_canonical(va));
            x86_64::instructions::tlb::flush(VirtAddr::new_truncate(va));
        }
        // Reloading CR3 with its own value drops all non-global entries.
        TlbFlush::All => x86_64::instructions::tlb::flush_all(),
    }
}
