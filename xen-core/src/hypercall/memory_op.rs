//! `memory_op(cmd, arg)`: a domain's memory reservation, the maps it reads,
//! and Xen's answers for what a PV guest may not use.
//!
//! The sub-op is `cmd`'s low 6 bits; the bits above are where a preempted
//! reservation call resumes (Xen's `MEMOP_EXTENT_SHIFT`). The calls that
//! change a reservation are in [`reservation_change`] and [`memory_exchange`],
//! the maps in [`memory_maps`]. Xen's arch-specific sub-ops compare the whole
//! `cmd`, so resume bits with them are -ENOSYS; the others that never resume
//! take them as -EINVAL.

mod memory_exchange;
mod memory_maps;
mod reservation_change;
mod target;

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::guest_copy::{copy_from_guest, read_from_guest};
use target::resolve;
use xen_abi::errno::Errno;
use xen_abi::memory::*;
use xen_abi::mmu::{DOMID_SELF, DomId};

/// `memory_op(cmd, arg)`.
pub fn memory_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, argument, ..] = args;
    let op = (command & MEMOP_CMD_MASK) as u32;
    let resume = command >> MEMOP_EXTENT_SHIFT;
    let value = |value: u64| Ok(Completion::Value(i64::try_from(value).unwrap_or(i64::MAX)));
    match op {
        XENMEM_INCREASE_RESERVATION | XENMEM_DECREASE_RESERVATION | XENMEM_POPULATE_PHYSMAP => {
            reservation_change::change(context, op, resume, argument)
        }
        _ if resume != 0 && !is_arch_op(op) && !takes_resume_bits(op) => Err(Errno::EINVAL),
        XENMEM_EXCHANGE => memory_exchange::exchange(context, argument),
        // One past the highest machine frame.
        XENMEM_MAXIMUM_RAM_PAGE => value(context.frames.frame_count()),
        XENMEM_CURRENT_RESERVATION | XENMEM_MAXIMUM_RESERVATION | XENMEM_MAXIMUM_GPFN => {
            let domid: DomId = read_from_guest(context.platform.guest(), argument)?;
            let target = resolve(context, domid)?;
            match op {
                XENMEM_CURRENT_RESERVATION => value(context.frames.owned_by(target.id)),
                XENMEM_MAXIMUM_RESERVATION => value(target.max_pages),
                _ => value(target.max_pfn.max(1) - 1),
            }
        }
        XENMEM_GET_VNUMAINFO => {
            // `struct xen_vnuma_topology_info`: domid, then a pad that must
            // be 0. No domain has a virtual NUMA topology.
            let mut head = [0u8; 40];
            copy_from_guest(context.platform.guest(), argument, &mut head)?;
            if head[2..4] != [0, 0] {
                return Err(Errno::EINVAL);
            }
            resolve(context, DomId::from_le_bytes([head[0], head[1]]))?;
            Err(Errno::EOPNOTSUPP)
        }
        XENMEM_CLAIM_PAGES => {
            let claim: XenMemoryReservation = read_from_guest(context.platform.guest(), argument)?;
            if claim.extent_start != 0 || claim.extent_order != 0 || claim.mem_flags != 0 || claim.domid == DOMID_SELF {
                return Err(Errno::EINVAL);
            }
            // Claims are the toolstack's, which is not here yet.
            Err(if context.domain.privilege().is_some() {
                Errno::EOPNOTSUPP
            } else {
                Errno::EPERM
            })
        }
        XENMEM_ADD_TO_PHYSMAP | XENMEM_ADD_TO_PHYSMAP_BATCH | XENMEM_REMOVE_FROM_PHYSMAP => {
            // Only translated guests have a physmap to add to.
            let mut request = [0u8; 16];
            copy_from_guest(context.platform.guest(), argument, &mut request)?;
            Err(Errno::EACCES)
        }
        _ if resume != 0 && is_arch_op(op) => Err(Errno::ENOSYS),
        XENMEM_SET_POD_TARGET | XENMEM_GET_POD_TARGET => {
            let domid: DomId = read_from_guest(context.platform.guest(), argument)?;
            resolve(context, domid)?;
            Err(Errno::EINVAL)
        }
        XENMEM_ACCESS_OP => {
            // Only for another, HVM, domain.
            let mut request = [0u8; 32];
            copy_from_guest(context.platform.guest(), argument, &mut request)?;
            let domid = DomId::from_le_bytes([request[2], request[3]]);
            Err(match domid {
                DOMID_SELF => Errno::ESRCH,
                id if id == context.domain.id() => Errno::EPERM,
                id if resolve(context, id).is_err() => Errno::ESRCH,
                _ => Errno::EINVAL,
            })
        }
        XENMEM_MEMORY_MAP => memory_maps::memory_map(context, argument),
        XENMEM_SET_MEMORY_MAP => memory_maps::set_memory_map(context, argument),
        XENMEM_MACHINE_MEMORY_MAP => memory_maps::machine_memory_map(context, argument),
        XENMEM_MACHPHYS_MAPPING => memory_maps::machphys_mapping(context, argument),
        XENMEM_MACHPHYS_MFN_LIST => memory_maps::machphys_mfn_list(context, argument),
        // No memory sharing: nothing freed or shared by it.
        XENMEM_GET_SHARING_FREED_PAGES | XENMEM_GET_SHARING_SHARED_PAGES => value(0),
        // No 32-bit PV guests, so no 32-bit M2P (Xen with `pv=no-32`).
        XENMEM_MACHPHYS_COMPAT_MFN_LIST => Err(Errno::EOPNOTSUPP),
        _ => Err(Errno::ENOSYS),
    }
}

/// Sub-ops Xen's `arch_memory_op` handles (or nobody does), which compare
/// the whole command: resume bits make them unknown, -ENOSYS.
fn is_arch_op(op: u32) -> bool {
    matches!(
        op,
        XENMEM_MACHPHYS_MFN_LIST
            | 8
            | XENMEM_MEMORY_MAP
            | XENMEM_MACHINE_MEMORY_MAP
            | XENMEM_MACHPHYS_MAPPING
            | XENMEM_SET_MEMORY_MAP
            | XENMEM_SET_POD_TARGET
            | XENMEM_GET_POD_TARGET
            | XENMEM_GET_SHARING_FREED_PAGES
            | XENMEM_GET_SHARING_SHARED_PAGES
            | 20
            | 22
            | XENMEM_MACHPHYS_COMPAT_MFN_LIST
    ) || op > 28
}

/// Sub-ops that take resume bits without complaint (they could resume on
/// Xen, for translated guests).
fn takes_resume_bits(op: u32) -> bool {
    matches!(
        op,
        XENMEM_ADD_TO_PHYSMAP | XENMEM_ADD_TO_PHYSMAP_BATCH | XENMEM_ACCESS_OP
    )
}

#[cfg(test)]
mod tests;
