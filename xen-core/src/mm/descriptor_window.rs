//! The CPU's descriptor window: the 16 pages its GDT register points at.
//! Pages 0–13 show the running vCPU's GDT frames (an empty, read-only page
//! where it has none), page 14 the hypervisor's reserved page with Xen's
//! selectors (and its TSS descriptor), page 15 the empty page. The GDT
//! limit ends with page 14, as Xen's does, so no selector reaches page 15.
//!
//! The guest's frames are mapped writable for the hypervisor only: the CPU
//! sets a descriptor's accessed bit when it loads a segment; the guest
//! itself maps them read-only (the SegDesc type forbids anything else).

use super::Mfn;
use super::gdt_frames::GdtFrames;
use super::hypervisor_page_table::PteFlags;
use xen_abi::trap::FIRST_RESERVED_GDT_PAGE;

/// Pages in the GDT part of the window.
pub const GDT_WINDOW_PAGES: usize = 16;
/// The GDT limit the CPU gets: through the reserved page.
pub const GDT_LIMIT: u16 = ((FIRST_RESERVED_GDT_PAGE + 1) * 4096 - 1) as u16;

/// The window's 16 leaf entries for `gdt`, with the hypervisor's reserved
/// page at physical `reserved` and an empty page at physical `empty`.
pub fn gdt_window_entries(gdt: &GdtFrames, reserved: u64, empty: u64, no_execute: bool) -> [u64; GDT_WINDOW_PAGES] {
    let nx = if no_execute {
        PteFlags::NO_EXECUTE
    } else {
        PteFlags::empty()
    };
    let present = PteFlags::PRESENT | PteFlags::ACCESSED | nx;
    let writable = present | PteFlags::WRITABLE | PteFlags::DIRTY;
    core::array::from_fn(|page| match gdt.get(page) {
        Some(Some(frame)) => frame.address() | writable.bits(),
        Some(None) => empty | present.bits(),
        None if page == FIRST_RESERVED_GDT_PAGE => reserved | writable.bits(),
        None => empty | present.bits(),
    })
}

/// The frame a window entry maps (tests and the crash report).
pub fn mapped_frame(entry: u64) -> Mfn {
    Mfn::containing(entry & xen_abi::page_table_entry::ADDRESS_MASK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_frames_then_the_reserved_page_and_empty_pages_elsewhere() {
        let mut gdt: GdtFrames = [None; FIRST_RESERVED_GDT_PAGE];
        gdt[0] = Some(Mfn(0x1234));
        gdt[2] = Some(Mfn(0x5678));
        let entries = gdt_window_entries(&gdt, 0x10_e000, 0x20_0000, true);
        assert_eq!(mapped_frame(entries[0]), Mfn(0x1234));
        assert_ne!(entries[0] & PteFlags::WRITABLE.bits(), 0, "the CPU sets accessed bits");
        assert_eq!(entries[0] & PteFlags::USER.bits(), 0, "the hypervisor's mapping only");
        assert_eq!(mapped_frame(entries[1]), Mfn(0x200), "no frame: the empty page");
        assert_eq!(entries[1] & PteFlags::WRITABLE.bits(), 0, "read-only");
        assert_eq!(mapped_frame(entries[2]), Mfn(0x5678));
        assert_eq!(mapped_frame(entries[14]), Mfn(0x10e), "Xen's selectors");
        assert_eq!(mapped_frame(entries[15]), Mfn(0x200));
        assert!(entries.iter().all(|entry| entry & PteFlags::NO_EXECUTE.bits() != 0));
        assert_eq!(GDT_LIMIT, 0xefff);
    }
}
