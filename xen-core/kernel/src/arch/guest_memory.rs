//! The one path by which the hypervisor touches guest virtual memory.

use super::paging;
use xen_core::arch::{GuestFault, GuestMemory};
use xen_core::mm::Mfn;
use xen_core::mm::gdt_frames::GdtFrames;
use xen_core::mm::ldt_view::LdtView;
use xen_core::mm::tlb_flush::TlbFlush;

unsafe extern "C" {
    /// `rep movsb` with a fault fixup; returns the bytes not copied.
    fn copy_guest_bytes(destination: *mut u8, source: *const u8, length: usize) -> usize;
}

/// Guest virtual memory of the running domain, reached through its own page
/// tables (CR3 holds the guest's L4 while the hypervisor runs on its behalf).
///
/// Callers (xen_core's guest-copy layer) have already checked that the range
/// lies wholly in guest-owned address space, so a bad pointer can only fault,
/// never reach hypervisor memory; CR0.WP makes read-only guest pages fault on
/// writes too.
pub struct CurrentGuestMemory;

impl GuestMemory for CurrentGuestMemory {
    fn read(&mut self, address: u64, out: &mut [u8]) -> Result<(), GuestFault> {
        // SAFETY: `out` is a valid hypervisor buffer; the source is a guest
        // address in guest space (checked by the caller), and a fault there is
        // recovered by the fixup, so the copy either completes or stops.
        let left = unsafe { copy_guest_bytes(out.as_mut_ptr(), address as *const u8, out.len()) };
        if left == 0 {
            Ok(())
        } else {
            Err(GuestFault {
                address: address + (out.len() - left) as u64,
            })
        }
    }

    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), GuestFault> {
        // SAFETY: as for `read`, with roles swapped; the guest range was checked
        // to be guest space, so no hypervisor memory can be written.
        let left = unsafe { copy_guest_bytes(address as *mut u8, data.as_ptr(), data.len()) };
        if left == 0 {
            Ok(())
        } else {
            Err(GuestFault {
                address: address + (data.len() - left) as u64,
            })
        }
    }

    fn flush_tlb(&mut self, flush: TlbFlush) {
        paging::flush_tlb(flush);
    }

    fn load_gdt(&mut self, gdt: &GdtFrames) {
        super::descriptor_window::load_gdt(*gdt);
    }

    fn load_ldt(&mut self, ldt: &LdtView) {
        super::descriptor_window::load_ldt(ldt);
    }

    fn load_page_table_base(&mut self, l4: Mfn) {
        paging::load_root(l4);
    }
}
