//! The shared-info page of `xen.h` and `arch-x86`: per-vCPU event and time
//! state, the two-level event bitmaps and the wall clock.
//!
//! The hypervisor and the guest both write this page, so code touching it
//! concurrently goes through atomic accessors; these types give its layout.
//! The builder zeroes the page and sets every `evtchn_upcall_mask`.

use bitflags::bitflags;
use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `XEN_LEGACY_MAX_VCPUS`: vCPUs whose [`VcpuInfo`] lives in [`SharedInfo`];
/// others need `VCPUOP_register_vcpu_info`.
pub const XEN_LEGACY_MAX_VCPUS: usize = 32;

bitflags! {
    /// `XEN_PVCLOCK_*`: bits of [`VcpuTimeInfo::flags`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct PvclockFlags: u8 {
        /// The TSC is synchronised across vCPUs (`XEN_PVCLOCK_TSC_STABLE_BIT`).
        const TSC_STABLE = 1 << 0;
        /// The vCPU was stopped by the toolstack (`XEN_PVCLOCK_GUEST_STOPPED`).
        const GUEST_STOPPED = 1 << 1;
    }
}

/// `struct vcpu_time_info` (32 bytes): the parameters that turn a TSC reading
/// into guest system time, published under the `version` seqlock.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct VcpuTimeInfo {
    /// Seqlock: odd while the hypervisor updates the other fields.
    pub version: u32,
    /// Unused.
    pub pad0: u32,
    /// TSC value at the last update.
    pub tsc_timestamp: u64,
    /// System time in nanoseconds since boot at `tsc_timestamp`.
    pub system_time: u64,
    /// Multiplier (32.32 fixed point) from shifted TSC ticks to nanoseconds.
    pub tsc_to_system_mul: u32,
    /// Shift applied to a TSC delta before `tsc_to_system_mul`; negative shifts right.
    pub tsc_shift: i8,
    /// [`PvclockFlags`] bits.
    pub flags: u8,
    /// Unused.
    pub pad1: [u8; 2],
}

/// `struct arch_vcpu_info` (x86_64, 16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct ArchVcpuInfo {
    /// Faulting address of the last page fault bounced to the guest.
    pub cr2: u64,
    /// Unused; keeps [`VcpuInfo`] at 64 bytes.
    pub pad: u64,
}

/// `struct vcpu_info` (64 bytes): one vCPU's event and time state.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct VcpuInfo {
    /// Non-zero when an event upcall is pending; the guest clears it.
    pub evtchn_upcall_pending: u8,
    /// Non-zero while the guest masks upcalls (its virtual interrupt flag, inverted).
    pub evtchn_upcall_mask: u8,
    /// Implicit C padding before `evtchn_pending_sel`; zero.
    pub _pad0: [u8; 6],
    /// One bit per 64-port word of [`SharedInfo::evtchn_pending`] that may hold
    /// pending, unmasked ports for this vCPU.
    pub evtchn_pending_sel: u64,
    /// Architecture part.
    pub arch: ArchVcpuInfo,
    /// System time parameters.
    pub time: VcpuTimeInfo,
}

/// `struct arch_shared_info` (x86_64, 48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct ArchSharedInfo {
    /// Number of entries in the p2m table (highest PFN + 1).
    pub max_pfn: u64,
    /// MFN of the frame listing the frames that list the p2m frames (for the toolstack).
    pub pfn_to_mfn_frame_list_list: u64,
    /// NMI reason bits.
    pub nmi_reason: u64,
    /// CR3 of the address space holding a virtually mapped p2m, or 0.
    pub p2m_cr3: u64,
    /// Virtual address of that p2m list.
    pub p2m_vaddr: u64,
    /// Generation count of the p2m mapping; odd while it changes.
    pub p2m_generation: u64,
}

/// `struct shared_info` (3136 bytes of its page).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct SharedInfo {
    /// Per-vCPU state of the first [`XEN_LEGACY_MAX_VCPUS`] vCPUs.
    pub vcpu_info: [VcpuInfo; XEN_LEGACY_MAX_VCPUS],
    /// Pending bit of every event-channel port (64 words of 64 ports).
    pub evtchn_pending: [u64; 64],
    /// Mask bit of every event-channel port; the guest owns it.
    pub evtchn_mask: [u64; 64],
    /// Seqlock of the wall-clock fields, as [`VcpuTimeInfo::version`].
    pub wc_version: u32,
    /// Wall-clock seconds since the Unix epoch at system time 0 (low 32 bits).
    pub wc_sec: u32,
    /// Wall-clock nanoseconds at system time 0.
    pub wc_nsec: u32,
    /// High 32 bits of `wc_sec`.
    pub wc_sec_hi: u32,
    /// Architecture part.
    pub arch: ArchSharedInfo,
}

const _: () = {
    assert!(size_of::<VcpuTimeInfo>() == 32);
    assert!(offset_of!(VcpuTimeInfo, tsc_to_system_mul) == 24);
    assert!(offset_of!(VcpuTimeInfo, tsc_shift) == 28);
    assert!(offset_of!(VcpuTimeInfo, flags) == 29);
    assert!(size_of::<ArchVcpuInfo>() == 16);
    assert!(size_of::<VcpuInfo>() == 64);
    assert!(offset_of!(VcpuInfo, evtchn_pending_sel) == 8);
    assert!(offset_of!(VcpuInfo, arch) == 16);
    assert!(offset_of!(VcpuInfo, time) == 32);
    assert!(size_of::<ArchSharedInfo>() == 48);
    assert!(size_of::<SharedInfo>() == 3136);
    assert!(offset_of!(SharedInfo, evtchn_pending) == 2048);
    assert!(offset_of!(SharedInfo, evtchn_mask) == 2560);
    assert!(offset_of!(SharedInfo, wc_version) == 3072);
    assert!(offset_of!(SharedInfo, wc_sec_hi) == 3084);
    assert!(offset_of!(SharedInfo, arch) == 3088);
};
