//! `increase_reservation`, `decrease_reservation` and `populate_physmap`:
//! extents of `2^extent_order` machine-contiguous frames given to a domain
//! or taken back, as Xen's `memory.c` does them for a PV guest.
//!
//! - They answer with how many extents were done, counted from the first:
//!   every failure stops the loop and answers with the count so far, never
//!   an errno (so a failure before the first extent is 0).
//! - New frames are scrubbed, charged against the domain's `max_pages`, and
//!   reported by machine frame number in the guest's array; `populate`
//!   also records the guest's pseudo-physical number for them in the M2P.
//! - A frame given back is freed when nothing refers to it any more
//!   ([`crate::mm::FrameTable::give_up`]).
//! - Work per invocation is bounded: past [`PAGES_PER_INVOCATION`] pages the
//!   call continues where it stopped (the count in `cmd`'s upper bits).

use super::super::completion::Completion;
use super::super::hypercall_context::HypercallContext;
use super::target::{Target, resolve};
use crate::arch::{GuestMemory, MachineToPhys, PhysicalMemory, Platform};
use crate::guest_copy::{element_address, read_from_guest, write_to_guest};
use crate::mm::budget::Budget;
use crate::mm::tlb_flush::TlbFlush;
use crate::mm::{Mfn, Pfn};
use xen_abi::errno::Errno;
use xen_abi::memory::*;

/// Pages scrubbed, assigned or given back before a call continues.
pub const PAGES_PER_INVOCATION: u64 = 512;
/// Largest extent order a domU may ask for (2 MiB), and the control
/// domain (1 GiB): Xen's defaults.
pub const DOMU_MAX_ORDER: u32 = 9;
/// See [`DOMU_MAX_ORDER`].
pub const CONTROL_MAX_ORDER: u32 = 18;
/// The M2P entry of a frame no guest page is backed by.
pub const INVALID_M2P_ENTRY: Pfn = Pfn(u64::MAX);

/// Runs `op` from extent `start` on, with the `xen_memory_reservation` at
/// `argument`.
pub fn change<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    op: u32,
    start: u64,
    argument: u64,
) -> Result<Completion, Errno> {
    let done = |count: u64| Ok(Completion::Value(count as i64));
    let Ok(request) = read_from_guest::<XenMemoryReservation>(context.platform.guest(), argument) else {
        return done(start);
    };
    if request.nr_extents > u64::from(u32::MAX >> MEMOP_EXTENT_SHIFT) || start >= request.nr_extents {
        return done(start);
    }
    let Ok(target) = resolve(context, request.domid) else {
        return done(start);
    };
    let privileged = context.domain.privilege().is_some();
    let max_order = if privileged { CONTROL_MAX_ORDER } else { DOMU_MAX_ORDER };
    let Some(limit) = allocation_limit(request.mem_flags, context.frames.frame_count(), privileged) else {
        return done(start);
    };
    if request.extent_order > max_order || !target.running {
        return done(start);
    }
    let run = Run {
        op,
        request,
        target,
        limit,
    };
    let outcome = run.extents(context, start);
    if outcome.freed {
        // A frame given back may still be in this CPU's TLB through a
        // mapping removed without a flush: gone before it changes hands.
        context.platform.guest().flush_tlb(TlbFlush::All);
    }
    Ok(match outcome.stopped {
        Stop::Finished(count) => Completion::Value(count as i64),
        Stop::Preempted(next) => Completion::Continue([u64::from(op) | next << MEMOP_EXTENT_SHIFT, argument, 0, 0, 0]),
    })
}

/// The machine frame new extents must lie below: `address_bits` of
/// `mem_flags` as Xen reads them (0, or at least the machine's width: no
/// limit; 12 or less: the call fails, `None`). An exact NUMA node request
/// fails for a domU and for any node but the one there is.
fn allocation_limit(mem_flags: u32, max_page: u64, privileged: bool) -> Option<Mfn> {
    let bits = xenmemf_address_bits(mem_flags);
    let node = (mem_flags & XENMEMF_NODE_MASK) >> 8;
    if mem_flags & XENMEMF_EXACT_NODE_REQUEST != 0 && node != 0 && (!privileged || node != 1) {
        return None;
    }
    let machine_bits = 64 - max_page.saturating_sub(1).leading_zeros() + 12;
    match bits {
        0 => Some(Mfn(u64::MAX)),
        bits if bits >= machine_bits => Some(Mfn(u64::MAX)),
        bits if bits <= 12 => None,
        bits => Some(Mfn(1 << (bits - 12))),
    }
}

/// One call's request, checked.
struct Run {
    op: u32,
    request: XenMemoryReservation,
    target: Target,
    limit: Mfn,
}

/// Where a call stopped.
enum Stop {
    /// Done or failed: the count of extents done.
    Finished(u64),
    /// Out of budget: resume at this extent.
    Preempted(u64),
}

/// What a call did.
struct Outcome {
    stopped: Stop,
    /// Frames went back to the allocator.
    freed: bool,
}

impl Run {
    /// Works through the extents from `start`.
    fn extents<P: Platform>(&self, context: &mut HypercallContext<'_, P>, start: u64) -> Outcome {
        let pages = 1u64 << self.request.extent_order;
        let mut budget = PAGES_PER_INVOCATION;
        let mut freed = false;
        for index in start..self.request.nr_extents {
            if index != start && budget < pages {
                return Outcome {
                    stopped: Stop::Preempted(index),
                    freed,
                };
            }
            budget = budget.saturating_sub(pages);
            let result = match self.op {
                XENMEM_DECREASE_RESERVATION => self.give_back(context, index, &mut freed),
                _ => self.take(context, index),
            };
            if result.is_err() {
                return Outcome {
                    stopped: Stop::Finished(index),
                    freed,
                };
            }
        }
        Outcome {
            stopped: Stop::Finished(self.request.nr_extents),
            freed,
        }
    }

    /// The array element of extent `index`.
    fn element(&self, index: u64) -> Result<u64, Errno> {
        element_address(self.request.extent_start, index, 8)
    }

    /// Allocates extent `index` for the target (`increase` or `populate`).
    fn take<P: Platform>(&self, context: &mut HypercallContext<'_, P>, index: u64) -> Result<(), Errno> {
        let order = self.request.extent_order;
        let pages = 1u64 << order;
        let populate = self.op == XENMEM_POPULATE_PHYSMAP;
        let array = self.request.extent_start;
        let first_pfn = if populate {
            Some(read_from_guest::<u64>(context.platform.guest(), self.element(index)?)?)
        } else {
            None
        };
        let owned = context.frames.owned_by(self.target.id);
        if owned.saturating_add(pages) > self.target.max_pages {
            return Err(Errno::E2BIG);
        }
        let first = context
            .platform
            .allocate_extent(order, self.limit)
            .ok_or(Errno::ENOMEM)?;
        for page in 0..pages {
            let mfn = Mfn(first.0 + page);
            if context.frames.assign(mfn, self.target.id).is_err() {
                // The allocator and the frame table disagree: a bug, but
                // not one to hand the guest a frame over.
                for back in 0..page {
                    let _ = context.frames.take_back(Mfn(first.0 + back), self.target.id);
                }
                for back in 0..pages {
                    context.platform.free_frame(Mfn(first.0 + back));
                }
                return Err(Errno::EBUSY);
            }
            let (memory, _, m2p) = context.platform.memory_parts();
            memory.zero_frame(mfn);
            let pfn = first_pfn.map_or(INVALID_M2P_ENTRY, |pfn| Pfn(pfn.wrapping_add(page)));
            m2p.set(mfn, pfn);
        }
        // The frames stay the domain's even if it cannot be told of them,
        // as on Xen (a NULL array is allowed for `increase`).
        if populate || array != 0 {
            write_to_guest(context.platform.guest(), self.element(index)?, &first.0)?;
        }
        Ok(())
    }

    /// Takes extent `index` back from the target (`decrease`).
    fn give_back<P: Platform>(
        &self,
        context: &mut HypercallContext<'_, P>,
        index: u64,
        freed: &mut bool,
    ) -> Result<(), Errno> {
        let first: u64 = read_from_guest(context.platform.guest(), self.element(index)?)?;
        for page in 0..1u64 << self.request.extent_order {
            let mfn = Mfn(first.checked_add(page).ok_or(Errno::EINVAL)?);
            // A pinned table's tree is released within this budget; what is
            // left is finished before the owner's next page-table request.
            let mut budget = Budget::per_invocation();
            let memory = context.platform.memory();
            if context.frames.give_up(memory, mfn, self.target.id, &mut budget)? {
                let (_, _, m2p) = context.platform.memory_parts();
                m2p.set(mfn, INVALID_M2P_ENTRY);
                context.platform.free_frame(mfn);
                *freed = true;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_bits_are_read_as_xen_reads_them() {
        // A machine of 2^20 frames (4 GiB): 32 address bits.
        let max_page = 1 << 20;
        assert_eq!(allocation_limit(0, max_page, false), Some(Mfn(u64::MAX)));
        assert_eq!(allocation_limit(32, max_page, false), Some(Mfn(u64::MAX)), "all of it");
        assert_eq!(allocation_limit(31, max_page, false), Some(Mfn(1 << 19)));
        assert_eq!(allocation_limit(13, max_page, false), Some(Mfn(2)));
        assert_eq!(allocation_limit(12, max_page, false), None, "no frame is that low");
        let exact_node_1 = (2 << 8) | XENMEMF_EXACT_NODE_REQUEST;
        assert_eq!(
            allocation_limit(exact_node_1, max_page, true),
            None,
            "there is no node 1"
        );
        let exact_node_0 = (1 << 8) | XENMEMF_EXACT_NODE_REQUEST;
        assert_eq!(allocation_limit(exact_node_0, max_page, false), None, "not for a domU");
        assert!(allocation_limit(exact_node_0, max_page, true).is_some());
        assert!(allocation_limit(1 << 8, max_page, false).is_some(), "a hint is ignored");
    }
}
