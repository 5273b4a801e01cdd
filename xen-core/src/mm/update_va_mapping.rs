//! `update_va_mapping`: edit the L1 entry that maps one virtual address of
//! the caller's current address space (xen-pv-abi 9.2).

use super::frame_table::FrameTable;
use super::layout::is_canonical;
use super::pte_rules::{PSE, entry_address, entry_mfn, is_present};
use super::tlb_flush::TlbFlush;
use super::{Mfn, TableLevel};
use crate::arch::PhysicalMemory;
use crate::domain::pv_domain::DomId;
use xen_abi::errno::Errno;
use xen_abi::mmu::{UVMF_FLUSHTYPE_MASK, UVMF_INVLPG, UVMF_NONE, UVMF_TLB_FLUSH};

/// Runs `update_va_mapping(va, value, flags)` for `caller`, whose kernel
/// base pointer (current L4) is `base`. Returns the flush the flags ask for;
/// a failed update flushes nothing.
pub fn update_va_mapping(
    table: &mut FrameTable<'_>,
    memory: &mut impl PhysicalMemory,
    caller: DomId,
    base: Mfn,
    args: [u64; 5],
) -> Result<TlbFlush, Errno> {
    let [va, value, flags, ..] = args;
    // Bits 48-63 play no part in the walk, so a non-canonical address would
    // reach some guest L1, and the invlpg it asks for would fault in ring 0.
    if !is_canonical(va) {
        return Err(Errno::EINVAL);
    }
    let flush = match flags & UVMF_FLUSHTYPE_MASK {
        UVMF_NONE => TlbFlush::None,
        UVMF_TLB_FLUSH => TlbFlush::All,
        UVMF_INVLPG => TlbFlush::Page(va),
        _ => return Err(Errno::EINVAL),
    };
    // A vCPU bitmap pointer ORed into the flags (UVMF_MULTI) names vCPUs to
    // flush; with one vCPU, flushing the local one is flushing them all.
    let l1 = l1_for(table, memory, caller, base, va)?;
    let index = ((va >> 12) & 511) as usize;
    table.mod_entry(memory, l1, index, value, caller, caller)?;
    Ok(flush)
}

/// The validated L1 of `caller` that maps `va` under the L4 `base`.
fn l1_for(
    table: &FrameTable<'_>,
    memory: &impl PhysicalMemory,
    caller: DomId,
    base: Mfn,
    va: u64,
) -> Result<Mfn, Errno> {
    let owned_table = |mfn: Mfn, level: TableLevel| {
        let frame = table.frame(mfn).ok_or(Errno::EINVAL)?;
        let is_level = table.page_table_level(mfn) == Some(level);
        if frame.owner() == Some(caller) && is_level {
            Ok(mfn)
        } else {
            Err(Errno::EINVAL)
        }
    };
    let mut current = owned_table(base, TableLevel::L4)?;
    for (shift, child) in [(39, TableLevel::L3), (30, TableLevel::L2), (21, TableLevel::L1)] {
        let entry = memory.read_u64(entry_address(current, ((va >> shift) & 511) as usize));
        // Not mapped, or a superpage (which guests cannot have, but the
        // hypervisor's own slots 256-271 may): no L1 to edit.
        if !is_present(entry) || entry & PSE != 0 {
            return Err(Errno::EINVAL);
        }
        current = owned_table(entry_mfn(entry), child)?;
    }
    Ok(current)
}
