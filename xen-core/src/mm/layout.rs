//! The hypervisor's virtual address layout inside Xen's reserved L4 slots.
//!
//! Slots 256–271 of every x86_64 PV guest's L4 belong to the hypervisor
//! (`xen_abi::mmu::HYPERVISOR_L4_SLOTS`); the guest owns the rest, including
//! the top 2 GiB. What lies where inside the hole is ours to choose, except the
//! read-only M2P, whose address is ABI (`MACH2PHYS_VIRT_START`).

use xen_abi::mmu::HYPERVISOR_L4_SLOTS;
use xen_abi::page_table_entry::{ENTRIES_PER_TABLE, L4_SHIFT};

/// First L4 slot reserved to the hypervisor.
pub const FIRST_HYPERVISOR_L4_SLOT: usize = HYPERVISOR_L4_SLOTS.start;
/// Last L4 slot reserved to the hypervisor.
pub const LAST_HYPERVISOR_L4_SLOT: usize = HYPERVISOR_L4_SLOTS.end - 1;

/// The CPU's descriptor window (slot 260, where Xen keeps its per-domain
/// mappings): 16 pages the CPU's GDT register points at, showing the
/// running vCPU's GDT frames and then the hypervisor's reserved page
/// (`mm::descriptor_window`).
pub const DESCRIPTOR_WINDOW: u64 = 0xFFFF_8200_0000_0000;
/// The LDT part of the descriptor window: 16 pages from 64 KiB in, each
/// empty (not present) until the CPU's first read of it faults it in.
pub const LDT_WINDOW: u64 = DESCRIPTOR_WINDOW + 16 * 4096;
/// The LDT part's size.
pub const LDT_WINDOW_SIZE: u64 = 16 * 4096;

/// Where the hypervisor image is linked (slot 261; Xen's historical text address).
pub const HYPERVISOR_IMAGE_BASE: u64 = 0xFFFF_82D0_8000_0000;
/// The frame table: one `FrameInfo` per machine frame (slot 261, after the
/// image; where Xen keeps its own). 128 GiB holds far more than any machine
/// we boot needs.
pub const FRAME_TABLE_VIRT_START: u64 = 0xFFFF_82E0_0000_0000;
/// Size of the frame table's range.
pub const FRAME_TABLE_VIRT_SIZE: u64 = 128 << 30;
/// Start of the direct map of all physical memory (slots 262–271).
pub const DIRECT_MAP_BASE: u64 = 0xFFFF_8300_0000_0000;
/// Size of the direct map: ten L4 slots of 512 GiB.
pub const DIRECT_MAP_SIZE: u64 = 10 << 39;

/// The L4 slot that translates virtual address `va`.
pub const fn l4_slot(va: u64) -> usize {
    ((va >> L4_SHIFT) & (ENTRIES_PER_TABLE as u64 - 1)) as usize
}

/// Whether `va` lies in the hypervisor's reserved slots.
pub const fn is_hypervisor_address(va: u64) -> bool {
    let slot = l4_slot(va);
    is_canonical(va) && va >> 63 == 1 && slot >= FIRST_HYPERVISOR_L4_SLOT && slot <= LAST_HYPERVISOR_L4_SLOT
}

/// Whether `va` is canonical for 48-bit virtual addresses.
pub const fn is_canonical(va: u64) -> bool {
    let top = va >> 47;
    top == 0 || top == 0x1_FFFF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_we_place_lies_in_the_reserved_slots() {
        for va in [
            xen_abi::mmu::MACH2PHYS_VIRT_START,
            HYPERVISOR_IMAGE_BASE,
            FRAME_TABLE_VIRT_START,
            FRAME_TABLE_VIRT_START + FRAME_TABLE_VIRT_SIZE - 1,
            DIRECT_MAP_BASE,
            DIRECT_MAP_BASE + DIRECT_MAP_SIZE - 1,
        ] {
            assert!(is_hypervisor_address(va), "{va:#x}");
        }
        assert_eq!(l4_slot(HYPERVISOR_IMAGE_BASE), 261);
        assert_eq!(l4_slot(DIRECT_MAP_BASE), 262);
        assert_eq!(
            l4_slot(FRAME_TABLE_VIRT_START + FRAME_TABLE_VIRT_SIZE),
            262,
            "ends where the direct map starts"
        );
        assert_eq!(l4_slot(DIRECT_MAP_BASE + DIRECT_MAP_SIZE - 1), 271);
    }

    #[test]
    fn guest_owned_addresses_are_not_ours() {
        // The top 2 GiB, where conventional kernels live, is guest slot 511.
        assert!(!is_hypervisor_address(0xFFFF_FFFF_8000_0000));
        assert!(!is_hypervisor_address(0xFFFF_8800_0000_0000));
        assert!(!is_hypervisor_address(0x0000_7FFF_FFFF_F000));
        assert!(!is_hypervisor_address(0x0000_8000_0000_0000));
    }
}
