//! Per-vCPU operations of `vcpu.h`: bring-up, runstate and timers.
//!
//! `vcpu_op` takes a command in RDI, a vCPU id in RSI and a pointer to the
//! command's struct in RDX.

use bitflags::bitflags;
use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Set a vCPU's initial register state (a `vcpu_guest_context`).
pub const VCPUOP_INITIALISE: u32 = 0;
/// Start an initialised vCPU.
pub const VCPUOP_UP: u32 = 1;
/// Stop a vCPU.
pub const VCPUOP_DOWN: u32 = 2;
/// Returns 1 if the vCPU is up.
pub const VCPUOP_IS_UP: u32 = 3;
/// Fill a [`VcpuRunstateInfo`].
pub const VCPUOP_GET_RUNSTATE_INFO: u32 = 4;
/// Keep a [`VcpuRunstateInfo`] in guest memory current
/// ([`VcpuRegisterRunstateMemoryArea`]).
pub const VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA: u32 = 5;
/// Start a periodic timer ([`VcpuSetPeriodicTimer`]).
pub const VCPUOP_SET_PERIODIC_TIMER: u32 = 6;
/// Stop the periodic timer; no argument.
pub const VCPUOP_STOP_PERIODIC_TIMER: u32 = 7;
/// Arm the one-shot timer ([`VcpuSetSingleshotTimer`]).
pub const VCPUOP_SET_SINGLESHOT_TIMER: u32 = 8;
/// Cancel the one-shot timer; no argument.
pub const VCPUOP_STOP_SINGLESHOT_TIMER: u32 = 9;
/// Move the vCPU's `vcpu_info` into a guest page ([`VcpuRegisterVcpuInfo`]).
pub const VCPUOP_REGISTER_VCPU_INFO: u32 = 10;
/// Send an NMI to the vCPU.
pub const VCPUOP_SEND_NMI: u32 = 11;
/// Read the physical CPU id behind the vCPU (privileged).
pub const VCPUOP_GET_PHYSID: u32 = 12;
/// Keep a `vcpu_time_info` in guest memory current.
pub const VCPUOP_REGISTER_VCPU_TIME_MEMORY_AREA: u32 = 13;

/// Runstate: running on a physical CPU.
pub const RUNSTATE_RUNNING: i32 = 0;
/// Runstate: runnable, waiting for a physical CPU.
pub const RUNSTATE_RUNNABLE: i32 = 1;
/// Runstate: blocked or polling.
pub const RUNSTATE_BLOCKED: i32 = 2;
/// Runstate: offline or paused.
pub const RUNSTATE_OFFLINE: i32 = 3;

/// `XEN_RUNSTATE_UPDATE`: set in `state_entry_time` while the hypervisor
/// rewrites a registered runstate area.
pub const XEN_RUNSTATE_UPDATE: u64 = 1 << 63;

/// `struct vcpu_runstate_info` (48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct VcpuRunstateInfo {
    /// Current `RUNSTATE_*`.
    pub state: i32,
    /// Implicit C padding before `state_entry_time`; zero.
    pub _pad0: u32,
    /// System time when `state` was entered.
    pub state_entry_time: u64,
    /// Nanoseconds spent in each `RUNSTATE_*`.
    pub time: [u64; 4],
}

/// `struct vcpu_register_runstate_memory_area` (8 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct VcpuRegisterRunstateMemoryArea {
    /// Union `addr`: guest virtual address of a [`VcpuRunstateInfo`].
    pub addr: u64,
}

/// `struct vcpu_set_periodic_timer` (8 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct VcpuSetPeriodicTimer {
    /// Period in nanoseconds.
    pub period_ns: u64,
}

bitflags! {
    /// `VCPU_SSHOTTMR_*`: bits of [`VcpuSetSingleshotTimer::flags`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct SingleshotTimerFlags: u32 {
        /// Fail with -ETIME if the deadline has already passed.
        const FUTURE = 1 << 0;
    }
}

/// `struct vcpu_set_singleshot_timer` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct VcpuSetSingleshotTimer {
    /// Deadline in guest system time (nanoseconds).
    pub timeout_abs_ns: u64,
    /// [`SingleshotTimerFlags`] bits.
    pub flags: u32,
    /// Implicit C padding at the end; zero.
    pub _pad0: u32,
}

/// `struct vcpu_register_vcpu_info` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct VcpuRegisterVcpuInfo {
    /// Frame that will hold the `vcpu_info`.
    pub mfn: u64,
    /// Offset of the `vcpu_info` within that frame.
    pub offset: u32,
    /// Unused.
    pub rsvd: u32,
}

const _: () = {
    assert!(size_of::<VcpuRunstateInfo>() == 48);
    assert!(offset_of!(VcpuRunstateInfo, state_entry_time) == 8);
    assert!(offset_of!(VcpuRunstateInfo, time) == 16);
    assert!(size_of::<VcpuRegisterRunstateMemoryArea>() == 8);
    assert!(size_of::<VcpuSetPeriodicTimer>() == 8);
    assert!(size_of::<VcpuSetSingleshotTimer>() == 16);
    assert!(offset_of!(VcpuSetSingleshotTimer, flags) == 8);
    assert!(size_of::<VcpuRegisterVcpuInfo>() == 16);
    assert!(offset_of!(VcpuRegisterVcpuInfo, offset) == 8);
};
