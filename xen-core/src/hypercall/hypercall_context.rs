//! What a hypercall handler works with.

use crate::arch::Platform;
use crate::domain::domain_table::Others;
use crate::domain::pv_domain::PvDomain;
use crate::mm::FrameTable;
use crate::trap_frame::TrapFrame;

/// What a handler works with.
pub struct HypercallContext<'a, P: Platform> {
    /// The calling domain.
    pub domain: &'a mut PvDomain,
    /// Every other domain (event channels reach them).
    pub others: Others<'a>,
    /// The PV MMU's state of every machine frame.
    pub frames: &'a mut FrameTable<'static>,
    /// The caller's registers.
    pub frame: &'a mut TrapFrame,
    /// The machine.
    pub platform: &'a mut P,
    /// Whether this call is an entry of a multicall (some calls refuse).
    pub in_multicall: bool,
    /// Set by a call after which the scheduler must choose again: the
    /// caller blocked or yielded, or another vCPU woke.
    pub reschedule: bool,
}
