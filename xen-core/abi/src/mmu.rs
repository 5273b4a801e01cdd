//! Memory-management interface of `xen.h` and `arch-x86/xen-x86_64.h`:
//! `mmu_update`, `mmuext_op`, `update_va_mapping` flags, VM assists, domain ids
//! and the hypervisor's reserved virtual range.

use crate::page_table_entry::{ENTRIES_PER_TABLE, L4_SHIFT};
use core::mem::{offset_of, size_of};
use core::ops::Range;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `domid_t`: a domain identifier.
pub type DomId = u16;

/// `DOMID_FIRST_RESERVED`: ids from here on are special, not domains.
pub const DOMID_FIRST_RESERVED: DomId = 0x7ff0;
/// `DOMID_SELF`: the calling domain.
pub const DOMID_SELF: DomId = 0x7ff0;
/// `DOMID_IO`: owner of I/O memory (foreign-domain argument for MMIO mappings).
pub const DOMID_IO: DomId = 0x7ff1;
/// `DOMID_XEN`: owner of hypervisor pages.
pub const DOMID_XEN: DomId = 0x7ff2;
/// `DOMID_COW`: owner of shared copy-on-write pages.
pub const DOMID_COW: DomId = 0x7ff3;
/// `DOMID_INVALID`: no domain.
pub const DOMID_INVALID: DomId = 0x7ff4;
/// `DOMID_IDLE`: the idle domain.
pub const DOMID_IDLE: DomId = 0x7fff;
/// `DOMID_MASK`: bits of a valid domain id.
pub const DOMID_MASK: DomId = 0x7fff;

/// `struct mmu_update` (16 bytes): one request of `mmu_update`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct MmuUpdate {
    /// Machine address of the target, with an `MMU_*` command in bits 0–1.
    pub ptr: u64,
    /// New entry contents (or new M2P entry).
    pub val: u64,
}

/// `mmu_update` command: validated write of a page-table entry.
pub const MMU_NORMAL_PT_UPDATE: u64 = 0;
/// `mmu_update` command: set the M2P entry of the frame containing `ptr`.
pub const MMU_MACHPHYS_UPDATE: u64 = 1;
/// `mmu_update` command: validated write keeping the entry's Accessed/Dirty bits.
pub const MMU_PT_UPDATE_PRESERVE_AD: u64 = 2;
/// `mmu_update` command: validated write without translating `val`.
pub const MMU_PT_UPDATE_NO_TRANSLATE: u64 = 3;

/// `struct mmuext_op` (24 bytes): one request of `mmuext_op`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct MmuextOp {
    /// One of the `MMUEXT_*` commands.
    pub cmd: u32,
    /// Implicit C padding before `arg1`; zero.
    pub _pad0: u32,
    /// Union `arg1`: `mfn` (pin, unpin, base pointers, clear/copy page,
    /// super marks) or `linear_addr` (INVLPG, SET_LDT).
    pub arg1: u64,
    /// Union `arg2`: `nr_ents` in the low 32 bits (SET_LDT), `vcpumask` guest
    /// pointer (the MULTI flushes) or `src_mfn` (COPY_PAGE).
    pub arg2: u64,
}

/// Pin an L1 table (`mfn`).
pub const MMUEXT_PIN_L1_TABLE: u32 = 0;
/// Pin an L2 table (`mfn`).
pub const MMUEXT_PIN_L2_TABLE: u32 = 1;
/// Pin an L3 table (`mfn`).
pub const MMUEXT_PIN_L3_TABLE: u32 = 2;
/// Pin an L4 table (`mfn`).
pub const MMUEXT_PIN_L4_TABLE: u32 = 3;
/// Unpin a table (`mfn`).
pub const MMUEXT_UNPIN_TABLE: u32 = 4;
/// Switch the kernel page-table base (`mfn` of an L4).
pub const MMUEXT_NEW_BASEPTR: u32 = 5;
/// Flush this vCPU's TLB.
pub const MMUEXT_TLB_FLUSH_LOCAL: u32 = 6;
/// Invalidate one address (`linear_addr`) on this vCPU.
pub const MMUEXT_INVLPG_LOCAL: u32 = 7;
/// Flush the TLBs of the vCPUs in `vcpumask`.
pub const MMUEXT_TLB_FLUSH_MULTI: u32 = 8;
/// Invalidate `linear_addr` on the vCPUs in `vcpumask`.
pub const MMUEXT_INVLPG_MULTI: u32 = 9;
/// Flush the TLBs of all the domain's vCPUs.
pub const MMUEXT_TLB_FLUSH_ALL: u32 = 10;
/// Invalidate `linear_addr` on all the domain's vCPUs.
pub const MMUEXT_INVLPG_ALL: u32 = 11;
/// Write back and invalidate this CPU's caches.
pub const MMUEXT_FLUSH_CACHE: u32 = 12;
/// Install an LDT (`linear_addr`, `nr_ents`).
pub const MMUEXT_SET_LDT: u32 = 13;
/// Switch the user page-table base (`mfn` of an L4).
pub const MMUEXT_NEW_USER_BASEPTR: u32 = 15;
/// Zero a frame (`mfn`).
pub const MMUEXT_CLEAR_PAGE: u32 = 16;
/// Copy frame `src_mfn` to `mfn`.
pub const MMUEXT_COPY_PAGE: u32 = 17;
/// Write back and invalidate the caches of all CPUs.
pub const MMUEXT_FLUSH_CACHE_GLOBAL: u32 = 18;
/// Mark a superpage (unsupported: -EOPNOTSUPP).
pub const MMUEXT_MARK_SUPER: u32 = 19;
/// Unmark a superpage (unsupported: -EOPNOTSUPP).
pub const MMUEXT_UNMARK_SUPER: u32 = 20;

/// `update_va_mapping` flush type: none.
pub const UVMF_NONE: u64 = 0;
/// `update_va_mapping` flush type: whole TLB(s).
pub const UVMF_TLB_FLUSH: u64 = 1;
/// `update_va_mapping` flush type: only the updated address.
pub const UVMF_INVLPG: u64 = 2;
/// `update_va_mapping`: bits holding the flush type.
pub const UVMF_FLUSHTYPE_MASK: u64 = 3;
/// `update_va_mapping` scope: the vCPUs of a bitmap whose pointer is ORed in.
pub const UVMF_MULTI: u64 = 0;
/// `update_va_mapping` scope: this vCPU only.
pub const UVMF_LOCAL: u64 = 0;
/// `update_va_mapping` scope: all the domain's vCPUs.
pub const UVMF_ALL: u64 = 1 << 2;

/// `vm_assist` command: turn an assist on.
pub const VMASST_CMD_ENABLE: u32 = 0;
/// `vm_assist` command: turn an assist off.
pub const VMASST_CMD_DISABLE: u32 = 1;
/// Assist: 4GB segment emulation (32-bit guests).
pub const VMASST_TYPE_4GB_SEGMENTS: u32 = 0;
/// Assist: notify the guest of 4GB segment emulation (32-bit guests).
pub const VMASST_TYPE_4GB_SEGMENTS_NOTIFY: u32 = 1;
/// Assist: writable page tables (writes to L1 tables are emulated).
pub const VMASST_TYPE_WRITABLE_PAGETABLES: u32 = 2;
/// Assist: PAE page directories above 4GB (32-bit guests).
pub const VMASST_TYPE_PAE_EXTENDED_CR3: u32 = 3;
/// Assist: IOPL handled as on hardware.
pub const VMASST_TYPE_ARCHITECTURAL_IOPL: u32 = 4;
/// Assist: flag runstate-area updates with `XEN_RUNSTATE_UPDATE`.
pub const VMASST_TYPE_RUNSTATE_UPDATE_FLAG: u32 = 5;
/// Assist: keep the M2P mapping out of user-mode page tables.
pub const VMASST_TYPE_M2P_STRICT: u32 = 32;

/// `HYPERVISOR_VIRT_START`: start of the range a 64-bit PV guest may not map.
pub const HYPERVISOR_VIRT_START: u64 = 0xffff_8000_0000_0000;
/// `HYPERVISOR_VIRT_END`: end (exclusive) of that range.
pub const HYPERVISOR_VIRT_END: u64 = 0xffff_8800_0000_0000;
/// The L4 slots of [`HYPERVISOR_VIRT_START`, [`HYPERVISOR_VIRT_END`]) (256 to
/// 271): no entry a guest writes in them is accepted.
pub const HYPERVISOR_L4_SLOTS: Range<usize> = l4_slot(HYPERVISOR_VIRT_START)..l4_slot(HYPERVISOR_VIRT_END);
/// `MACH2PHYS_VIRT_START`: read-only M2P table mapped into every PV guest.
pub const MACH2PHYS_VIRT_START: u64 = 0xffff_8000_0000_0000;
/// `MACH2PHYS_VIRT_END`: end (exclusive) of the M2P table.
pub const MACH2PHYS_VIRT_END: u64 = 0xffff_8040_0000_0000;
/// `MACH2PHYS_NR_ENTRIES`: number of 8-byte M2P entries.
pub const MACH2PHYS_NR_ENTRIES: u64 = (MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) >> 3;

/// The L4 slot of the upper-half address `va`.
const fn l4_slot(va: u64) -> usize {
    ((va >> L4_SHIFT) & (ENTRIES_PER_TABLE as u64 - 1)) as usize
}

const _: () = {
    assert!(HYPERVISOR_L4_SLOTS.start == 256 && HYPERVISOR_L4_SLOTS.end == 272);
    assert!(size_of::<MmuUpdate>() == 16);
    assert!(offset_of!(MmuUpdate, val) == 8);
    assert!(size_of::<MmuextOp>() == 24);
    assert!(offset_of!(MmuextOp, arg1) == 8);
    assert!(offset_of!(MmuextOp, arg2) == 16);
};
