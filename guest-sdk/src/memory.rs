//! `memory_op`: the guest's memory reservation and the maps it can read.
//!
//! A PV guest names frames by machine number: `populate_physmap` gives new
//! frames at pseudo-physical numbers of the guest's choosing and answers
//! with their machine numbers (in the same array); `decrease_reservation`
//! takes machine numbers; `exchange` swaps frames for others (contiguous,
//! below an address limit). The reservation calls answer with how many
//! extents they did, which is less than asked when memory or the domain's
//! limit ran out.

use crate::hypercall::raw;
use crate::xen_error::XenError;
use xen_abi::hypercall as nr;
use xen_abi::memory::*;
use xen_abi::mmu::{DOMID_SELF, DomId};

/// `memory_op(command, argument)`.
fn memory_op(command: u32, argument: u64) -> Result<i64, XenError> {
    XenError::check(raw(nr::MEMORY_OP, [u64::from(command), argument, 0, 0, 0]))
}

/// Frames domain `domid` holds (`XENMEM_current_reservation`).
pub fn current_reservation(domid: DomId) -> Result<u64, XenError> {
    memory_op(XENMEM_CURRENT_RESERVATION, &raw const domid as u64).map(|pages| pages as u64)
}

/// Frames domain `domid` may hold (`XENMEM_maximum_reservation`).
pub fn maximum_reservation(domid: DomId) -> Result<u64, XenError> {
    memory_op(XENMEM_MAXIMUM_RESERVATION, &raw const domid as u64).map(|pages| pages as u64)
}

/// The highest pseudo-physical frame domain `domid`'s kernel says it uses
/// (`XENMEM_maximum_gpfn`, from `shared_info.arch.max_pfn`).
pub fn maximum_gpfn(domid: DomId) -> Result<u64, XenError> {
    memory_op(XENMEM_MAXIMUM_GPFN, &raw const domid as u64).map(|pfn| pfn as u64)
}

/// One past the highest machine frame (`XENMEM_maximum_ram_page`).
pub fn maximum_ram_page() -> Result<u64, XenError> {
    memory_op(XENMEM_MAXIMUM_RAM_PAGE, 0).map(|page| page as u64)
}

/// Where the M2P table is mapped and the highest frame it covers.
pub fn machphys_mapping() -> Result<XenMachphysMapping, XenError> {
    let mut mapping = XenMachphysMapping::default();
    memory_op(XENMEM_MACHPHYS_MAPPING, &raw mut mapping as u64)?;
    Ok(mapping)
}

/// The first machine frame of each 2 MiB run of the M2P table into
/// `extents` (`XENMEM_machphys_mfn_list`): how many were written.
pub fn machphys_mfn_list(extents: &mut [u64]) -> Result<usize, XenError> {
    let mut list = XenMachphysMfnList {
        max_extents: u32::try_from(extents.len()).unwrap_or(u32::MAX),
        extent_start: extents.as_mut_ptr() as u64,
        ..Default::default()
    };
    memory_op(XENMEM_MACHPHYS_MFN_LIST, &raw mut list as u64)?;
    Ok(list.nr_extents as usize)
}

/// The guest's own memory map into `entries` (`XENMEM_memory_map`): how
/// many were written. -ENOSYS when none was set (a PV dom0).
pub fn memory_map(entries: &mut [E820Entry]) -> Result<usize, XenError> {
    map(XENMEM_MEMORY_MAP, entries)
}

/// The machine's memory map into `entries` (dom0 only,
/// `XENMEM_machine_memory_map`): how many were written.
pub fn machine_memory_map(entries: &mut [E820Entry]) -> Result<usize, XenError> {
    map(XENMEM_MACHINE_MEMORY_MAP, entries)
}

fn map(command: u32, entries: &mut [E820Entry]) -> Result<usize, XenError> {
    let mut request = XenMemoryMap {
        nr_entries: u32::try_from(entries.len()).unwrap_or(u32::MAX),
        _pad0: 0,
        buffer: entries.as_mut_ptr() as u64,
    };
    memory_op(command, &raw mut request as u64)?;
    Ok(request.nr_entries as usize)
}

/// A reservation call over `frames`, extents of `2^order` pages.
fn reservation(command: u32, frames: &mut [u64], order: u32, mem_flags: u32) -> Result<usize, XenError> {
    let request = XenMemoryReservation {
        extent_start: frames.as_mut_ptr() as u64,
        nr_extents: frames.len() as u64,
        extent_order: order,
        mem_flags,
        domid: DOMID_SELF,
        _pad0: [0; 3],
    };
    memory_op(command, &raw const request as u64).map(|done| done as usize)
}

/// Backs the pseudo-physical frames `frames` (each the first of an extent
/// of `2^order`) with new machine frames, below `2^address_bits` bytes if
/// not 0; each entry becomes the extent's first machine frame. How many
/// extents were populated (from the first).
pub fn populate_physmap(frames: &mut [u64], order: u32, address_bits: u8) -> Result<usize, XenError> {
    reservation(XENMEM_POPULATE_PHYSMAP, frames, order, u32::from(address_bits))
}

/// Gives back the machine frames `frames` (each the first of an extent of
/// `2^order`): how many extents went.
pub fn decrease_reservation(frames: &mut [u64], order: u32) -> Result<usize, XenError> {
    reservation(XENMEM_DECREASE_RESERVATION, frames, order, 0)
}

/// Exchanges the machine frames `input` (extents of `2^input_order`) for
/// new extents of `2^output_order` below `2^address_bits` bytes (0: no
/// limit), at the pseudo-physical numbers in `output`, which become their
/// machine numbers. Both sides must cover as many pages. How many input
/// extents were exchanged, and the call's error if not all.
pub fn exchange(
    input: &mut [u64],
    input_order: u32,
    output: &mut [u64],
    output_order: u32,
    address_bits: u8,
) -> (u64, Result<(), XenError>) {
    let mut request = XenMemoryExchange {
        input: XenMemoryReservation {
            extent_start: input.as_mut_ptr() as u64,
            nr_extents: input.len() as u64,
            extent_order: input_order,
            mem_flags: 0,
            domid: DOMID_SELF,
            _pad0: [0; 3],
        },
        output: XenMemoryReservation {
            extent_start: output.as_mut_ptr() as u64,
            nr_extents: output.len() as u64,
            extent_order: output_order,
            mem_flags: u32::from(address_bits),
            domid: DOMID_SELF,
            _pad0: [0; 3],
        },
        nr_exchanged: 0,
    };
    let result = memory_op(XENMEM_EXCHANGE, &raw mut request as u64).map(|_| ());
    (request.nr_exchanged, result)
}
