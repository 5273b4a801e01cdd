//! A hostile guest: performs each known page-table attack (each a rule of Xen's `xen/arch/x86/mm.c`)
//! and the descriptor-table, debug-register and direct page-table write
//! attacks ([`descriptors`]) for real, prints one verdict per attack, and
//! finishes its list, which it
//! can only do if the hypervisor refused every attack and stayed up. With
//! `role=base-switch` it makes the base-switch attack instead
//! ([`base_switch`]), as an unprivileged domU.
#![no_std]
#![no_main]

mod base_switch;
mod boot_tables;
mod descriptors;
mod forged_tree;
mod tally;

use boot_tables::{Manager, walk_boot_tables};
use guest_sdk::hypercall::{mmu_update, mmuext_op, update_va_mapping};
use guest_sdk::page_table::{Frame, Level, PRESENT, PageTableError, RW, boot_manager, index};
use guest_sdk::start_info::{StartInfo, command_line, parameter};
use guest_sdk::{XenError, println};
use tally::Tally;
use xen_abi::mmu::{
    MMU_MACHPHYS_UPDATE, MMUEXT_CLEAR_PAGE, MMUEXT_NEW_BASEPTR, MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE,
    MMUEXT_UNPIN_TABLE, MmuUpdate, MmuextOp, UVMF_INVLPG,
};

fn main(info: &'static StartInfo) -> ! {
    if parameter(command_line(info), "role") == Some("base-switch") {
        base_switch::main(info)
    }
    match attack_all(info) {
        Ok((refused, allowed)) => println!("attacks done: {refused} refused, {allowed} allowed"),
        Err(error) => println!("attacker setup failed: {error}"),
    }
    if command_line(info).contains("debug-exit") {
        let _ = guest_sdk::debug_exit::exit_qemu(guest_sdk::debug_exit::SUCCESS);
    }
    guest_sdk::sched::power_off()
}

fn attack_all(info: &'static StartInfo) -> Result<(u32, u32), PageTableError> {
    let mut tables = boot_manager(info);
    let boot = walk_boot_tables(&tables, info)?;
    let data = tables.allocate_frame()?;
    // A page whose mapping the attacks that real Xen allows a dom0 may
    // change, so that what follows still finds `data` as it was.
    let scratch = tables.allocate_frame()?;
    let mut tally = Tally::default();
    let update = |ptr: u64, val: u64| mmu_update(&[MmuUpdate { ptr, val }]).map_err(|(error, _)| error);
    let ext = |cmd: u32, arg1: u64| {
        mmuext_op(&[MmuextOp {
            cmd,
            _pad0: 0,
            arg1,
            arg2: 0,
        }])
    };
    let l1_slot_of_data = (boot.l1 << 12) + index(data.va, Level::L1) * 8;

    tally.verdict(
        "writable mapping of a page table",
        update_va_mapping(data.va, (boot.l1 << 12) | PRESENT | RW, UVMF_INVLPG),
    );
    tally.verdict(
        "writable mapping of a page table by mmu_update",
        update(l1_slot_of_data, (boot.l4 << 12) | PRESENT | RW),
    );
    tally.verdict(
        "pin a writable-mapped frame as an L1",
        ext(MMUEXT_PIN_L1_TABLE, data.mfn),
    );
    tally.verdict(
        "pin the kernel's L3 as an L2 (type confusion)",
        ext(MMUEXT_PIN_L2_TABLE, boot.l3),
    );
    tally.verdict(
        "L2 entry pointing at the L4 (type confusion)",
        update((boot.l2 << 12) + 500 * 8, (boot.l4 << 12) | PRESENT),
    );
    let self_map = (boot.l4 << 12) + 5 * 8;
    if tally.verdict(
        "linear page table: L4 entry pointing at itself",
        update(self_map, (boot.l4 << 12) | PRESENT),
    ) {
        // Real Xen allows read-only linear page tables; xen-core does not.
        update(self_map, 0).map_err(PageTableError::Xen)?;
    }
    tally.verdict(
        "write to a hypervisor L4 slot",
        update((boot.l4 << 12) + 256 * 8, (boot.l3 << 12) | PRESENT),
    );
    if tally.verdict(
        "map a frame we do not own",
        update_va_mapping(scratch.va, PRESENT, UVMF_INVLPG),
    ) {
        // Real Xen lets dom0 map frame 0, an I/O frame; xen-core gives no
        // domain I/O memory.
        tables.remap(scratch.va, scratch.mfn, PRESENT | RW)?;
    }
    tally.verdict(
        "map a frame beyond memory",
        update_va_mapping(scratch.va, (0xf_ffff_ff00 << 12) | PRESENT, UVMF_INVLPG),
    );
    tally.verdict("M2P update of a frame we do not own", update(MMU_MACHPHYS_UPDATE, 0));
    tally.verdict("unpin a table that is not pinned", ext(MMUEXT_UNPIN_TABLE, boot.l1));
    tally.verdict("new base pointer on a data frame", ext(MMUEXT_NEW_BASEPTR, data.mfn));
    tally.verdict("clear a page table", ext(MMUEXT_CLEAR_PAGE, boot.l1));
    tally.verdict("misaligned entry pointer", update(l1_slot_of_data + 4, 0));
    tally.verdict(
        "non-canonical address",
        update_va_mapping(0x0000_8000_0000_0000, 0, UVMF_INVLPG),
    );
    tally.verdict("request list in hypervisor memory", hypervisor_list());
    descriptors::attack(&mut tables, &boot, &mut tally)?;

    // The guest's own legitimate update still works afterwards.
    tables.remap(data.va, data.mfn, PRESENT)?;
    tables.remap(data.va, data.mfn, PRESENT | RW)?;
    println!("after the attacks: a legitimate remap still works");
    check_data_frame(&mut tables, &data)?;
    Ok((tally.refused, tally.allowed))
}

/// An `mmu_update` whose request list points into the hypervisor's slots.
fn hypervisor_list() -> Result<(), XenError> {
    let result = guest_sdk::hypercall::raw(
        xen_abi::hypercall::MMU_UPDATE,
        [0xffff_8300_0000_0000, 1, 0, u64::from(xen_abi::mmu::DOMID_SELF), 0],
    );
    XenError::check(result).map(|_| ())
}

/// Writes and reads the data frame the attacks tried to subvert.
fn check_data_frame(tables: &mut Manager, data: &Frame) -> Result<(), PageTableError> {
    tables.write_mapped(data.va, 0x600d)?;
    println!("data frame reads {:#x}", tables.read_mapped(data.va)?);
    Ok(())
}

guest_sdk::entry!(main);
