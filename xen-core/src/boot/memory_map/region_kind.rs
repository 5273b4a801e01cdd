//! What a firmware region holds, and its number in Xen's memory map types.

use xen_abi::hvm_start_info::{
    XEN_HVM_MEMMAP_TYPE_ACPI, XEN_HVM_MEMMAP_TYPE_DISABLED, XEN_HVM_MEMMAP_TYPE_NVS, XEN_HVM_MEMMAP_TYPE_PMEM,
    XEN_HVM_MEMMAP_TYPE_RAM, XEN_HVM_MEMMAP_TYPE_RESERVED, XEN_HVM_MEMMAP_TYPE_UNUSABLE,
};

/// What a firmware region holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegionKind {
    /// Usable RAM.
    Ram,
    /// Reserved by the firmware or the machine.
    Reserved,
    /// ACPI tables, reclaimable once read.
    Acpi,
    /// ACPI non-volatile storage.
    Nvs,
    /// Memory with detected errors.
    Unusable,
    /// Disabled memory.
    Disabled,
    /// Persistent memory.
    Pmem,
}

impl RegionKind {
    /// The kind for a `XEN_HVM_MEMMAP_TYPE_*` value; `None` for types we do not know.
    pub const fn from_xen(kind: u32) -> Option<RegionKind> {
        match kind {
            XEN_HVM_MEMMAP_TYPE_RAM => Some(RegionKind::Ram),
            XEN_HVM_MEMMAP_TYPE_RESERVED => Some(RegionKind::Reserved),
            XEN_HVM_MEMMAP_TYPE_ACPI => Some(RegionKind::Acpi),
            XEN_HVM_MEMMAP_TYPE_NVS => Some(RegionKind::Nvs),
            XEN_HVM_MEMMAP_TYPE_UNUSABLE => Some(RegionKind::Unusable),
            XEN_HVM_MEMMAP_TYPE_DISABLED => Some(RegionKind::Disabled),
            XEN_HVM_MEMMAP_TYPE_PMEM => Some(RegionKind::Pmem),
            _ => None,
        }
    }

    /// The `XEN_HVM_MEMMAP_TYPE_*` value of this kind.
    pub const fn to_xen(self) -> u32 {
        match self {
            RegionKind::Ram => XEN_HVM_MEMMAP_TYPE_RAM,
            RegionKind::Reserved => XEN_HVM_MEMMAP_TYPE_RESERVED,
            RegionKind::Acpi => XEN_HVM_MEMMAP_TYPE_ACPI,
            RegionKind::Nvs => XEN_HVM_MEMMAP_TYPE_NVS,
            RegionKind::Unusable => XEN_HVM_MEMMAP_TYPE_UNUSABLE,
            RegionKind::Disabled => XEN_HVM_MEMMAP_TYPE_DISABLED,
            RegionKind::Pmem => XEN_HVM_MEMMAP_TYPE_PMEM,
        }
    }

    /// A short name for boot logs.
    pub const fn name(self) -> &'static str {
        match self {
            RegionKind::Ram => "RAM",
            RegionKind::Reserved => "reserved",
            RegionKind::Acpi => "ACPI data",
            RegionKind::Nvs => "ACPI NVS",
            RegionKind::Unusable => "unusable",
            RegionKind::Disabled => "disabled",
            RegionKind::Pmem => "persistent",
        }
    }
}
