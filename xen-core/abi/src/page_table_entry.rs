//! Page-table entries as a 64-bit PV guest writes them through `mmu_update`
//! and reads them back: x86-64's four-level format with Xen's own software
//! bits. The hypervisor validates every entry a guest writes (which bits it
//! may set is the hypervisor's policy, not listed here).

/// `XEN_PAGE_SHIFT` (`io/ring.h`): bits of a page offset.
pub const PAGE_SHIFT: u32 = 12;
/// Bytes in a page (`XEN_PAGE_SIZE`).
pub const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;
/// Entries in one page table of any level.
pub const ENTRIES_PER_TABLE: usize = 512;
/// Bits of a virtual address below its L4 index: each L4 slot maps 512 GiB.
pub const L4_SHIFT: u32 = 39;

/// The entry is valid.
pub const PRESENT: u64 = 1 << 0;
/// Writes are allowed.
pub const RW: u64 = 1 << 1;
/// Ring 3 may access (the hypervisor sets it on what a PV guest maps: the
/// guest kernel runs in ring 3).
pub const USER: u64 = 1 << 2;
/// Write-through caching.
pub const PWT: u64 = 1 << 3;
/// Caching disabled.
pub const PCD: u64 = 1 << 4;
/// Set by the CPU on access.
pub const ACCESSED: u64 = 1 << 5;
/// Set by the CPU on write.
pub const DIRTY: u64 = 1 << 6;
/// Superpage in L2/L3 entries, PAT in L1 entries.
pub const PSE: u64 = 1 << 7;
/// Survives CR3 reloads.
pub const GLOBAL: u64 = 1 << 8;
/// Software-available bits 9–11.
pub const AVAIL: u64 = 0x7 << 9;
/// Bit 52 (`_PAGE_GUEST_KERNEL`): set by the hypervisor in an L1 entry the
/// guest kernel wrote without [`USER`].
pub const GUEST_KERNEL: u64 = 1 << 52;
/// Software-available bits 52–62.
pub const AVAIL_HIGH: u64 = 0x7ff << 52;
/// Bit 62 (`_PAGE_GNTTAB`): marks grant mappings; a guest may not write it.
pub const GNTTAB: u64 = 1 << 62;
/// Instruction fetches fault.
pub const NX: u64 = 1 << 63;
/// Bits 12–51: the frame address.
pub const ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;

const _: () = assert!(ENTRIES_PER_TABLE as u64 * 8 == PAGE_SIZE);
