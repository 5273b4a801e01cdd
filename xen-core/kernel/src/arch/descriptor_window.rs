//! The descriptor window (`xen_core::mm::descriptor_window`) on this CPU:
//! mapped once at boot, its entries rewritten when another GDT is to show.

use super::physical_memory::DIRECT_MAP;
use core::sync::atomic::{AtomicBool, Ordering};
use spin::Mutex;
use xen_abi::trap::FIRST_RESERVED_GDT_PAGE;
use xen_core::arch::{FrameSource, PhysicalMemory};
use xen_core::mm::descriptor_window::{GDT_WINDOW_PAGES, gdt_window_entries};
use xen_core::mm::gdt_frames::GdtFrames;
use xen_core::mm::hypervisor_page_table::{HypervisorPageTable, MapError, PageSize, PteFlags};
use xen_core::mm::layout::{DESCRIPTOR_WINDOW, LDT_WINDOW};
use xen_core::mm::ldt_view::{LDT_PAGES, LdtView};
use xen_core::mm::mfn::PAGE_SIZE;

/// Where the window's leaf entries are, and what it shows.
struct Window {
    /// Physical address of the first leaf entry (the 16 are consecutive).
    entries: u64,
    reserved: u64,
    empty: u64,
    no_execute: bool,
    shown: GdtFrames,
    ldt: LdtView,
}

/// Whether the LDT register names a guest LDT.
static SHOWING_LDT: AtomicBool = AtomicBool::new(false);

static WINDOW: Mutex<Option<Window>> = Mutex::new(None);

/// Whether the window shows any guest frame: switches between vCPUs that
/// have no GDT of their own (most) then cost one test.
static SHOWING_GUEST_FRAMES: AtomicBool = AtomicBool::new(false);

/// Maps the window in `table` (before the switch to it): the reserved page
/// at `reserved`, a zeroed frame of its own for the empty pages.
pub fn map(
    table: &mut HypervisorPageTable,
    memory: &mut impl PhysicalMemory,
    frames: &mut impl FrameSource,
    reserved: u64,
    no_execute: bool,
) -> Result<(), MapError> {
    let empty = frames.allocate_frame().ok_or(MapError::OutOfFrames)?;
    memory.zero_frame(empty);
    let nx = if no_execute {
        PteFlags::NO_EXECUTE
    } else {
        PteFlags::empty()
    };
    for page in 0..GDT_WINDOW_PAGES + LDT_PAGES {
        let va = DESCRIPTOR_WINDOW + page as u64 * PAGE_SIZE;
        let (pa, flags) = if page == FIRST_RESERVED_GDT_PAGE {
            (reserved, PteFlags::WRITABLE | nx)
        } else {
            (empty.address(), nx)
        };
        table.map(memory, frames, va, pa, PageSize::Small, flags)?;
    }
    let entries = table
        .leaf_entry(memory, DESCRIPTOR_WINDOW)
        .ok_or(MapError::AlreadyMapped(DESCRIPTOR_WINDOW))?;
    // The LDT pages start out absent: the CPU's first read of one faults,
    // and the hypervisor maps the guest's frame there.
    for page in GDT_WINDOW_PAGES..GDT_WINDOW_PAGES + LDT_PAGES {
        memory.write_u64(entries + page as u64 * 8, 0);
    }
    *WINDOW.lock() = Some(Window {
        entries,
        reserved,
        empty: empty.address(),
        no_execute,
        shown: [None; FIRST_RESERVED_GDT_PAGE],
        ldt: LdtView::default(),
    });
    Ok(())
}

/// Shows `ldt` in the window's LDT pages and points the LDT register at it,
/// if it does not already.
pub fn load_ldt(ldt: &LdtView) {
    if ldt.entries == 0 && !SHOWING_LDT.load(Ordering::Relaxed) {
        return;
    }
    let mut window = WINDOW.lock();
    let Some(window) = window.as_mut() else {
        return;
    };
    if window.ldt == *ldt {
        return;
    }
    let nx = if window.no_execute {
        PteFlags::NO_EXECUTE
    } else {
        PteFlags::empty()
    };
    let flags = PteFlags::PRESENT | PteFlags::WRITABLE | PteFlags::ACCESSED | PteFlags::DIRTY | nx;
    let mut memory = DIRECT_MAP;
    for (page, frame) in ldt.pages.iter().enumerate() {
        let at = window.entries + (GDT_WINDOW_PAGES + page) as u64 * 8;
        let entry = frame.map_or(0, |frame| frame.address() | flags.bits());
        if memory.read_u64(at) != entry {
            memory.write_u64(at, entry);
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(LDT_WINDOW + page as u64 * PAGE_SIZE));
        }
    }
    super::gdt::load_ldt(LDT_WINDOW, ldt.entries);
    window.ldt = *ldt;
    SHOWING_LDT.store(ldt.entries != 0, Ordering::Relaxed);
}

/// Shows `gdt` in the window, if it does not already: rewrites the entries
/// that change and drops their translations.
pub fn load_gdt(gdt: GdtFrames) {
    let any = gdt.iter().any(Option::is_some);
    if !any && !SHOWING_GUEST_FRAMES.load(Ordering::Relaxed) {
        return;
    }
    let mut window = WINDOW.lock();
    let Some(window) = window.as_mut() else {
        return;
    };
    if window.shown == gdt {
        return;
    }
    let entries = gdt_window_entries(&gdt, window.reserved, window.empty, window.no_execute);
    let mut memory = DIRECT_MAP;
    for (page, entry) in entries.iter().enumerate().take(FIRST_RESERVED_GDT_PAGE) {
        let at = window.entries + page as u64 * 8;
        if memory.read_u64(at) != *entry {
            memory.write_u64(at, *entry);
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(DESCRIPTOR_WINDOW + page as u64 * PAGE_SIZE));
        }
    }
    window.shown = gdt;
    SHOWING_GUEST_FRAMES.store(any, Ordering::Relaxed);
}
