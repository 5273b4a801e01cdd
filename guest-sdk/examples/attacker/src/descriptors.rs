//! The descriptor-table, debug-register and direct page-table attacks:
//! each refused, with the same errno on real Xen.

use crate::boot_tables::{BootTables, Manager};
use crate::tally::Tally;
use core::sync::atomic::{AtomicU64, Ordering};
use guest_sdk::hypercall::{raw, set_debugreg, set_gdt, update_descriptor, update_va_mapping};
use guest_sdk::page_table::{ACCESSED, Level, PRESENT, PageTableError, RW, index};
use guest_sdk::traps::TrapFrame;
use guest_sdk::{XenError, println};
use xen_abi::mmu::{MMUEXT_SET_LDT, MmuextOp, UVMF_INVLPG};

/// The error code of the last #PF, 0 if none since reset.
static PAGE_FAULT: AtomicU64 = AtomicU64::new(0);

/// A #PF from the refused store: noted and skipped.
fn page_fault(frame: &mut TrapFrame) {
    PAGE_FAULT.store(frame.error_code | 1 << 63, Ordering::Relaxed);
    frame.rip += guest_sdk::fault::STORE_INSTRUCTION_LENGTH;
}

/// Runs the attacks; `tally` gets a verdict for each.
pub fn attack(tables: &mut Manager, boot: &BootTables, tally: &mut Tally) -> Result<(), PageTableError> {
    // A GDT of the attacker's own: one read-only frame.
    let gdt = tables.allocate_frame()?;
    tables.remap(gdt.va, gdt.mfn, PRESENT | ACCESSED)?;
    set_gdt(&[gdt.mfn], 512)?;
    let slot = |index: u64| (gdt.mfn << 12) + index * 8;
    // A call gate (type 0xc) to the hypervisor's code selector 0xe008.
    tally.verdict(
        "call gate into the hypervisor's code",
        update_descriptor(slot(2), 0x0000_ec00_e008_1000),
    );
    tally.verdict(
        "a TSS descriptor in the GDT",
        update_descriptor(slot(3), 0x0000_8900_0000_0067),
    );
    tally.verdict(
        "a GDT frame mapped writable",
        update_va_mapping(gdt.va, (gdt.mfn << 12) | PRESENT | RW, UVMF_INVLPG),
    );
    tally.verdict("a page table offered as a GDT", set_gdt(&[boot.l1], 1));
    tally.verdict("an LDT at a hypervisor address", set_ldt(0xffff_8300_0000_0000, 1));
    tally.verdict("a breakpoint on the hypervisor", set_debugreg(0, 0xffff_8300_0000_0000));
    set_gdt(&[], 0)?;
    tables.remap(gdt.va, gdt.mfn, PRESENT | RW | ACCESSED)?;

    // A direct store into the boot L1, with writable page tables on,
    // pointing an entry at a frame beyond memory: the guest's own #PF.
    let enable = [0, u64::from(xen_abi::mmu::VMASST_TYPE_WRITABLE_PAGETABLES), 0, 0, 0];
    XenError::check(raw(xen_abi::hypercall::VM_ASSIST, enable))?;
    guest_sdk::traps::install(&[(14, page_fault)])?;
    let target = tables.allocate_frame()?;
    let entry_va = tables.table_address(boot.l1)? + index(target.va, Level::L1) * 8;
    PAGE_FAULT.store(0, Ordering::Relaxed);
    guest_sdk::fault::store_u64(entry_va, (0xf_ffff_ff00 << 12) | PRESENT);
    let name = "a direct PTE write to a frame beyond memory";
    match PAGE_FAULT.load(Ordering::Relaxed) {
        0 => {
            tally.allowed += 1;
            println!("attack {name}: ALLOWED");
        }
        fault => {
            tally.refused += 1;
            println!(
                "attack {name}: refused with a page fault, error code {:#x}",
                fault & 0xff
            );
        }
    }
    Ok(())
}

/// `MMUEXT_SET_LDT(linear, entries)`.
fn set_ldt(linear: u64, entries: u64) -> Result<(), XenError> {
    guest_sdk::hypercall::mmuext_op(&[MmuextOp {
        cmd: MMUEXT_SET_LDT,
        _pad0: 0,
        arg1: linear,
        arg2: entries,
    }])
}
