//! The PVH start-of-day structures of `arch-x86/hvm/start_info.h`.
//!
//! A PVH loader (QEMU's `-kernel`, or Xen itself) enters the hypervisor in 32-bit
//! protected mode with EBX pointing at [`HvmStartInfo`]. These are boot-protocol
//! structures, not guest ABI, but they are Xen's public layout all the same.
//! Loaders may place them at addresses that are only 4-byte aligned, so read them
//! with zerocopy's unaligned readers, never through a reference.

use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `XEN_HVM_START_MAGIC_VALUE`: the first word of a valid [`HvmStartInfo`].
pub const XEN_HVM_START_MAGIC_VALUE: u32 = 0x336e_c578;

/// Memory-map entry type: usable RAM.
pub const XEN_HVM_MEMMAP_TYPE_RAM: u32 = 1;
/// Memory-map entry type: reserved.
pub const XEN_HVM_MEMMAP_TYPE_RESERVED: u32 = 2;
/// Memory-map entry type: ACPI tables, reclaimable after reading them.
pub const XEN_HVM_MEMMAP_TYPE_ACPI: u32 = 3;
/// Memory-map entry type: ACPI non-volatile storage.
pub const XEN_HVM_MEMMAP_TYPE_NVS: u32 = 4;
/// Memory-map entry type: memory with detected errors.
pub const XEN_HVM_MEMMAP_TYPE_UNUSABLE: u32 = 5;
/// Memory-map entry type: disabled.
pub const XEN_HVM_MEMMAP_TYPE_DISABLED: u32 = 6;
/// Memory-map entry type: persistent memory.
pub const XEN_HVM_MEMMAP_TYPE_PMEM: u32 = 7;

/// `struct hvm_start_info` (version 1, 56 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct HvmStartInfo {
    /// [`XEN_HVM_START_MAGIC_VALUE`].
    pub magic: u32,
    /// Version of this structure; the memory map needs version 1 or newer.
    pub version: u32,
    /// SIF_* flags.
    pub flags: u32,
    /// Number of [`HvmModlistEntry`] at `modlist_paddr`.
    pub nr_modules: u32,
    /// Physical address of the module list.
    pub modlist_paddr: u64,
    /// Physical address of the NUL-terminated command line (0: none).
    pub cmdline_paddr: u64,
    /// Physical address of the ACPI RSDP.
    pub rsdp_paddr: u64,
    /// Physical address of the [`HvmMemmapTableEntry`] array (version 1).
    pub memmap_paddr: u64,
    /// Number of memory-map entries; 0 means no map was given (version 1).
    pub memmap_entries: u32,
    /// Must be zero.
    pub reserved: u32,
}

/// `struct hvm_modlist_entry` (32 bytes): one boot module.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct HvmModlistEntry {
    /// Physical address of the module.
    pub paddr: u64,
    /// Size of the module in bytes.
    pub size: u64,
    /// Physical address of the module's command line (0: none).
    pub cmdline_paddr: u64,
    /// Reserved.
    pub reserved: u64,
}

/// `struct hvm_memmap_table_entry` (24 bytes): one physical address range.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct HvmMemmapTableEntry {
    /// Base address of the range.
    pub addr: u64,
    /// Size of the range in bytes.
    pub size: u64,
    /// One of the `XEN_HVM_MEMMAP_TYPE_*` values.
    pub kind: u32,
    /// Must be zero in version 1.
    pub reserved: u32,
}

const _: () = {
    assert!(size_of::<HvmStartInfo>() == 56);
    assert!(offset_of!(HvmStartInfo, nr_modules) == 12);
    assert!(offset_of!(HvmStartInfo, modlist_paddr) == 16);
    assert!(offset_of!(HvmStartInfo, cmdline_paddr) == 24);
    assert!(offset_of!(HvmStartInfo, rsdp_paddr) == 32);
    assert!(offset_of!(HvmStartInfo, memmap_paddr) == 40);
    assert!(offset_of!(HvmStartInfo, memmap_entries) == 48);
    assert!(size_of::<HvmModlistEntry>() == 32);
    assert!(offset_of!(HvmModlistEntry, cmdline_paddr) == 16);
    assert!(size_of::<HvmMemmapTableEntry>() == 24);
    assert!(offset_of!(HvmMemmapTableEntry, kind) == 16);
};
