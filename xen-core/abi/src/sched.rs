//! `sched_op` sub-operations and arguments of `sched.h`, and the credit
//! scheduler's parameters of `domctl.h`.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Give up the CPU voluntarily.
pub const SCHEDOP_YIELD: u32 = 0;
/// Block until an event is pending.
pub const SCHEDOP_BLOCK: u32 = 1;
/// Shut the domain down; argument [`SchedShutdown`].
pub const SCHEDOP_SHUTDOWN: u32 = 2;
/// Block until one of a set of ports is pending.
pub const SCHEDOP_POLL: u32 = 3;

/// Shutdown reason: exited normally.
pub const SHUTDOWN_POWEROFF: u32 = 0;
/// Shutdown reason: restart.
pub const SHUTDOWN_REBOOT: u32 = 1;
/// Shutdown reason: suspend.
pub const SHUTDOWN_SUSPEND: u32 = 2;
/// Shutdown reason: crashed.
pub const SHUTDOWN_CRASH: u32 = 3;
/// Shutdown reason: watchdog expired.
pub const SHUTDOWN_WATCHDOG: u32 = 4;

/// `struct sched_shutdown`: argument of [`SCHEDOP_SHUTDOWN`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct SchedShutdown {
    /// One of the `SHUTDOWN_*` reasons.
    pub reason: u32,
}

/// Most ports one [`SCHEDOP_POLL`] may wait on (Xen's limit).
pub const SCHED_POLL_MAX_PORTS: u32 = 128;

/// `struct sched_poll` (24 bytes): argument of [`SCHEDOP_POLL`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct SchedPoll {
    /// Guest address of an array of `evtchn_port_t`.
    pub ports: u64,
    /// Number of ports in it.
    pub nr_ports: u32,
    /// Implicit C padding before `timeout`; zero.
    pub _pad0: u32,
    /// Absolute system time at which to give up; 0 waits for ever.
    pub timeout: u64,
}

/// `XEN_SCHEDULER_CREDIT`: the credit scheduler, in `domctl` scheduler
/// operations.
pub const XEN_SCHEDULER_CREDIT: u32 = 5;

/// `struct xen_domctl_sched_credit` (4 bytes): a domain's share under the
/// credit scheduler, as the toolstack reads and sets it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct XenDomctlSchedCredit {
    /// Relative weight, 1 to 65535.
    pub weight: u16,
    /// Most CPU the domain may use, in percent of one CPU; 0 for no cap.
    pub cap: u16,
}

/// The weight a domain has until it is given one (Xen's
/// `CSCHED_DEFAULT_WEIGHT`, not in the public headers): what
/// [`XenDomctlSchedCredit::weight`] reads for it.
pub const CSCHED_DEFAULT_WEIGHT: u16 = 256;

const _: () = {
    assert!(core::mem::size_of::<XenDomctlSchedCredit>() == 4);
    assert!(core::mem::size_of::<SchedPoll>() == 24);
    assert!(core::mem::offset_of!(SchedPoll, timeout) == 16);
};
