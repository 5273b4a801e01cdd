//! The maps `memory_op` shows: a domain's pseudo-physical memory map (as a
//! toolstack set it), the machine's (dom0 only), and where the M2P table
//! is mapped.

use super::super::completion::Completion;
use super::super::hypercall_context::HypercallContext;
use super::target::resolve;
use crate::arch::Platform;
use crate::domain::reservation::MAX_MAP_ENTRIES;
use crate::guest_copy::{copy_from_guest, element_address, read_from_guest, write_to_guest};
use xen_abi::errno::Errno;
use xen_abi::memory::{E820Entry, E820MAX, XenMachphysMapping, XenMachphysMfnList, XenMemoryMap};
use xen_abi::mmu::{DomId, MACH2PHYS_NR_ENTRIES, MACH2PHYS_VIRT_END, MACH2PHYS_VIRT_START};
use zerocopy::IntoBytes;

/// `XENMEM_memory_map`: the caller's own map; -ENOSYS when none was set
/// (a PV dom0, which reads the machine's instead).
pub fn memory_map<P: Platform>(context: &mut HypercallContext<'_, P>, argument: u64) -> Result<Completion, Errno> {
    let mut request: XenMemoryMap = read_from_guest(context.platform.guest(), argument)?;
    let map = context.domain.reservation.map();
    if map.is_empty() {
        return Err(Errno::ENOSYS);
    }
    let count = map.len().min(request.nr_entries as usize);
    let mut entries = [E820Entry::default(); MAX_MAP_ENTRIES];
    entries[..count].copy_from_slice(&map[..count]);
    write_to_guest_entries(context, request.buffer, &entries[..count])?;
    request.nr_entries = count as u32;
    write_to_guest(context.platform.guest(), argument, &request)?;
    Ok(Completion::Value(0))
}

/// `XENMEM_set_memory_map`: a domain's map (`xen_foreign_memory_map`:
/// domid, then a `xen_memory_map`); a domU may set its own.
pub fn set_memory_map<P: Platform>(context: &mut HypercallContext<'_, P>, argument: u64) -> Result<Completion, Errno> {
    let mut head = [0u8; 24];
    copy_from_guest(context.platform.guest(), argument, &mut head)?;
    let domid = DomId::from_le_bytes([head[0], head[1]]);
    let nr_entries = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
    let buffer = u64::from_le_bytes(head[16..24].try_into().unwrap_or_default());
    if nr_entries > E820MAX {
        return Err(Errno::EINVAL);
    }
    let target = resolve(context, domid)?;
    let count = nr_entries as usize;
    if count > MAX_MAP_ENTRIES {
        return Err(Errno::ENOMEM);
    }
    let mut entries = [E820Entry::default(); MAX_MAP_ENTRIES];
    copy_from_guest(context.platform.guest(), buffer, entries[..count].as_mut_bytes())?;
    let domain = if target.id == context.domain.id() {
        &mut *context.domain
    } else {
        context.others.get_mut(target.id).ok_or(Errno::ESRCH)?
    };
    // Fits: checked above.
    let _ = domain.reservation.set_map(&entries[..count]);
    Ok(Completion::Value(0))
}

/// `XENMEM_machine_memory_map`: the machine's map, for the control domain
/// only (-EPERM before anything is read, as on Xen). A buffer of fewer
/// entries than the map has plus one is -EINVAL; a null buffer asks only
/// how many there are.
pub fn machine_memory_map<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    argument: u64,
) -> Result<Completion, Errno> {
    if context.domain.privilege().is_none() {
        return Err(Errno::EPERM);
    }
    let mut request: XenMemoryMap = read_from_guest(context.platform.guest(), argument)?;
    let count = (0..)
        .take_while(|&index| context.platform.machine_map_entry(index).is_some())
        .count();
    if request.buffer != 0 {
        if (request.nr_entries as usize) < count + 1 {
            return Err(Errno::EINVAL);
        }
        for index in 0..count {
            let entry = context.platform.machine_map_entry(index).unwrap_or_default();
            let at = element_address(request.buffer, index as u64, 20)?;
            write_to_guest(context.platform.guest(), at, &entry)?;
        }
    }
    request.nr_entries = count as u32;
    write_to_guest(context.platform.guest(), argument, &request)?;
    Ok(Completion::Value(0))
}

/// `XENMEM_machphys_mapping`: where every PV guest finds the M2P (read
/// only), and the highest frame it covers: all 2^35 for a domU, the last
/// RAM frame for dom0 (a machine without hot-pluggable memory).
pub fn machphys_mapping<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    argument: u64,
) -> Result<Completion, Errno> {
    let max_mfn = if context.domain.privilege().is_some() {
        context.frames.frame_count().saturating_sub(1)
    } else {
        MACH2PHYS_NR_ENTRIES - 1
    };
    let mapping = XenMachphysMapping {
        v_start: MACH2PHYS_VIRT_START,
        v_end: MACH2PHYS_VIRT_END,
        max_mfn,
    };
    write_to_guest(context.platform.guest(), argument, &mapping)?;
    Ok(Completion::Value(0))
}

/// `XENMEM_machphys_mfn_list`: the first machine frame of each 2 MiB run
/// of the M2P table, up to `max_extents`, and how many were written. Any
/// PV guest may ask, as on Xen; the table is a few runs long (8 MiB of
/// entries cover 4 GiB), so the work is bounded.
pub fn machphys_mfn_list<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    argument: u64,
) -> Result<Completion, Errno> {
    let mut list: XenMachphysMfnList = read_from_guest(context.platform.guest(), argument)?;
    let mut written = 0u32;
    while written < list.max_extents {
        let Some(extent) = context.platform.m2p_extent(written as usize) else {
            break;
        };
        let slot = element_address(list.extent_start, u64::from(written), 8)?;
        write_to_guest(context.platform.guest(), slot, &extent.0)?;
        written += 1;
    }
    list.nr_extents = written;
    write_to_guest(context.platform.guest(), argument, &list)?;
    Ok(Completion::Value(0))
}

/// Writes E820 entries to the guest array at `buffer`.
fn write_to_guest_entries<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    buffer: u64,
    entries: &[E820Entry],
) -> Result<(), Errno> {
    crate::guest_copy::copy_to_guest(context.platform.guest(), buffer, entries.as_bytes())
}
