//! `update_va_mapping`: edit the L1 entry that maps one virtual address of
//! the caller's current address space (`HYPERVISOR_update_va_mapping` in Xen's `xen.h`).

use super::frame_table::FrameTable;
use super::layout::{FIRST_HYPERVISOR_L4_SLOT, LAST_HYPERVISOR_L4_SLOT, is_canonical, l4_slot};
use super::pte_rules::{PSE, entry_address, entry_mfn, is_present};
use super::tlb_flush::TlbFlush;
use super::{Mfn, TableLevel};
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;
use xen_abi::mmu::{UVMF_FLUSHTYPE_MASK, UVMF_INVLPG, UVMF_NONE, UVMF_TLB_FLUSH};

/// Runs `update_va_mapping(va, value, flags)` for `caller`, whose kernel
/// base pointer (current L4) is `base`. Returns the flush the flags ask for;
/// a failed update flushes nothing. Inlined into the hypercall's arm of the
/// dispatcher (a call here costs it a frame and six saved registers).
#[inline(always)]
pub fn remap_va(
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

/// The L1 that maps `va` under `base`, which must be a validated L4 of
/// `caller`. Only the base is looked up in the frame table: the entries of a
/// validated table hold typed references on validated tables of the next
/// level with the same owner (10.4, 10.5), so the walk below the base needs
/// no checks of its own; `mod_entry` checks the L1 it ends at all the same.
pub(super) fn l1_for(
    table: &FrameTable<'_>,
    memory: &impl PhysicalMemory,
    caller: DomId,
    base: Mfn,
    va: u64,
) -> Result<Mfn, Errno> {
    let frame = table.frame(base).ok_or(Errno::EINVAL)?;
    let is_callers_l4 = frame.owner() == Some(caller) && frame.table_level() == Some(TableLevel::L4);
    // Slots 256-271 hold the hypervisor's tables, not the guest's.
    if !is_callers_l4 || (FIRST_HYPERVISOR_L4_SLOT..=LAST_HYPERVISOR_L4_SLOT).contains(&l4_slot(va)) {
        return Err(Errno::EINVAL);
    }
    let mut current = base;
    for shift in [39, 30, 21] {
        let entry = memory.read_u64(entry_address(current, ((va >> shift) & 511) as usize));
        // Not mapped, or a superpage (which validation never lets a guest
        // have): no L1 to edit.
        if !is_present(entry) || entry & PSE != 0 {
            return Err(Errno::EINVAL);
        }
        current = entry_mfn(entry);
        debug_assert_eq!(table.frame(current).and_then(|frame| frame.owner()), Some(caller));
    }
    Ok(current)
}
