//! Checks hypercall and exception semantics from inside a guest, one line
//! of output per check for the QEMU scenario to read.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};
use guest_sdk::fault::{DIVIDE_INSTRUCTION_LENGTH, breakpoint, divide_by_zero, fpu_instruction};
use guest_sdk::hypercall::{console_write_at, fpu_taskswitch, multicall, raw, raw_int82, xen_version};
use guest_sdk::println;
use guest_sdk::start_info::{StartInfo, command_line};
use guest_sdk::traps::{TrapFrame, install};
use xen_abi::hypercall as nr;
use xen_abi::multicall::MulticallEntry;

/// What the #DE handler saw: vector, CS, SS, and 1 once it ran.
static DIVIDE: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// How many times the #NM handler ran.
static DEVICE_NOT_AVAILABLE: AtomicU64 = AtomicU64::new(0);
/// What the #BP handler saw: vector and RIP.
static BREAKPOINT: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

fn on_divide_error(frame: &mut TrapFrame) {
    DIVIDE[0].store(frame.vector, Ordering::Relaxed);
    DIVIDE[1].store(frame.cs & 0xffff, Ordering::Relaxed);
    DIVIDE[2].store(frame.ss, Ordering::Relaxed);
    DIVIDE[3].store(1, Ordering::Relaxed);
    frame.rip += DIVIDE_INSTRUCTION_LENGTH;
}

fn on_device_not_available(_frame: &mut TrapFrame) {
    // The hypervisor cleared the virtual TS before bouncing: returning
    // re-executes the FPU instruction, which now succeeds.
    DEVICE_NOT_AVAILABLE.fetch_add(1, Ordering::Relaxed);
}

fn on_breakpoint(frame: &mut TrapFrame) {
    BREAKPOINT[0].store(frame.vector, Ordering::Relaxed);
    BREAKPOINT[1].store(frame.rip, Ordering::Relaxed);
}

/// Registers the runstate area and moves vcpu_info into a page of ours,
/// then yields and watches both change: the runstate says running, and
/// asked for, has running time counted; vcpu_info has the upcall flag Xen
/// sets on the move and a time record the hypervisor wrote there since.
fn vcpu_areas(info: &'static StartInfo) {
    use guest_sdk::hypercall::{register_runstate_area, register_vcpu_info};
    let mut tables = guest_sdk::page_table::boot_manager(info);
    let Ok(page) = tables.allocate_frame() else {
        println!("check vcpu areas: no frame");
        return;
    };
    let runstate = page.va + 512;
    let registered = register_runstate_area(runstate);
    let state = tables.read_mapped(runstate).map(|word| word as u32);
    println!("check runstate area: {registered:?}, state {state:?} (0 = running)");
    let moved = register_vcpu_info(page.mfn, 0);
    let flags = tables.read_mapped(page.va).map(|word| word & 0xff);
    println!(
        "check vcpu_info moved: {moved:?}, upcall pending {flags:?}, again {:?}",
        register_vcpu_info(page.mfn, 64)
    );
    let _ = guest_sdk::sched::yield_now();
    let _ = guest_sdk::sched::yield_now();
    let version = tables.read_mapped(page.va + 32).map(|word| word as u32);
    // get_runstate_info counts the running state up to now.
    let snapshot = page.va + 1024;
    let asked = raw(
        nr::VCPU_OP,
        [u64::from(xen_abi::vcpu::VCPUOP_GET_RUNSTATE_INFO), 0, snapshot, 0, 0],
    );
    let running = tables.read_mapped(snapshot + 16);
    println!(
        "check after yields: time version even and set {}, get_runstate_info {asked} with running time counted {}",
        version.is_ok_and(|version| version != 0 && version % 2 == 0),
        running.is_ok_and(|time| time > 0)
    );
}

/// Loads a GDT of its own: refused while its frame is mapped writable,
/// accepted read-only, its ring-0 descriptors raised to DPL 3 (read back
/// with `lar`), one descriptor changed in place with update_descriptor; the
/// refusals of a TSS descriptor, a page-table frame and too many entries.
fn own_gdt(info: &'static StartInfo) {
    use guest_sdk::hypercall::{set_gdt, update_descriptor};
    use guest_sdk::page_table::{ACCESSED, PRESENT, RW};
    use guest_sdk::segments::{access_rights, dpl};
    let mut tables = guest_sdk::page_table::boot_manager(info);
    // The first frame a new manager hands out holds vcpu_info now
    // (vcpu_areas): take the next.
    let Ok(page) = tables.allocate_frame().and_then(|_| tables.allocate_frame()) else {
        println!("check own gdt: no frame");
        return;
    };
    let ring0_data = 0x00cf_9300_0000_ffff_u64;
    let ring0_code = 0x00af_9b00_0000_ffff_u64;
    let _ = tables.write_mapped(page.va + 8, ring0_data);
    let _ = tables.write_mapped(page.va + 16, ring0_code);
    let writable = set_gdt(&[page.mfn], 32);
    let _ = tables.remap(page.va, page.mfn, PRESENT | ACCESSED);
    let loaded = set_gdt(&[page.mfn], 32);
    let rights = [0x0b_u16, 0x13].map(|selector| access_rights(selector).map(dpl));
    println!("check own gdt: mapped writable {writable:?}, read-only {loaded:?}, DPLs {rights:?}");
    let tss = update_descriptor((page.mfn << 12) + 24, 0x0000_8900_0000_0067);
    let data = update_descriptor((page.mfn << 12) + 24, ring0_data);
    let boot_l4 = tables.boot_root(info).mfn;
    println!(
        "check own gdt updates: a TSS {tss:?}, data {data:?} DPL {:?}; a page table as GDT {:?}, 7169 entries {:?}",
        access_rights(0x1b).map(dpl),
        set_gdt(&[boot_l4], 1),
        set_gdt(&[page.mfn; 15], 7169)
    );
    let released = set_gdt(&[], 0);
    let writable_again = tables.remap(page.va, page.mfn, PRESENT | RW | ACCESSED);
    println!(
        "check own gdt released: {released:?}, writable again {}",
        writable_again.is_ok()
    );
}

/// Writes an L1 entry directly (writable page tables): the mapping of a
/// page of ours is made read-only by a plain store to its L1, which the
/// hypervisor traps, checks and applies, then writable again.
fn direct_pte_write(info: &'static StartInfo) {
    use guest_sdk::page_table::{ACCESSED, DIRTY, PRESENT, RW};
    let mut tables = guest_sdk::page_table::boot_manager(info);
    // The first two frames a new manager hands out are in use (vcpu_areas,
    // own_gdt).
    let page = tables
        .allocate_frame()
        .and_then(|_| tables.allocate_frame())
        .and_then(|_| tables.allocate_frame());
    let root = tables.boot_root(info).mfn;
    let Some((page, path)) = page
        .ok()
        .and_then(|page| Some((page, tables.table_path(root, page.va).ok()??)))
    else {
        println!("check direct pte write: no frame");
        return;
    };
    let (l1, slot) = (path[3], (page.va >> 12) & 511);
    let enabled = raw(
        nr::VM_ASSIST,
        [0, u64::from(xen_abi::mmu::VMASST_TYPE_WRITABLE_PAGETABLES), 0, 0, 0],
    );
    let read_only = (page.mfn << 12) | PRESENT | ACCESSED;
    let written = tables.write_entry_directly(l1, slot, read_only);
    let after = tables.entry(l1, slot).map(|entry| entry & (PRESENT | RW) == PRESENT);
    let back = tables.write_entry_directly(l1, slot, read_only | RW | DIRTY);
    let writable = tables.entry(l1, slot).map(|entry| entry & RW != 0);
    println!(
        "check direct pte write: vm_assist {enabled}, {written:?} read-only {after:?}, {back:?} writable again {writable:?}"
    );
}

/// Loads an LDT of its own: a read-only frame with a ring-0 data
/// descriptor, which the CPU reads (`lar` of an LDT selector) at DPL 3 once
/// the hypervisor faulted the page in; then takes the LDT away and maps the
/// frame writable again.
fn own_ldt(info: &'static StartInfo) {
    use guest_sdk::page_table::{ACCESSED, PRESENT, RW};
    use guest_sdk::segments::{access_rights, dpl};
    use xen_abi::mmu::{MMUEXT_SET_LDT, MmuextOp};
    let mut tables = guest_sdk::page_table::boot_manager(info);
    // The first three frames a new manager hands out are in use.
    let mut page = tables.allocate_frame();
    for _ in 0..3 {
        page = page.and_then(|_| tables.allocate_frame());
    }
    let Ok(page) = page else {
        println!("check own ldt: no frame");
        return;
    };
    let _ = tables.write_mapped(page.va + 8, 0x00cf_9300_0000_ffff);
    let _ = tables.remap(page.va, page.mfn, PRESENT | ACCESSED);
    let set_ldt = |linear: u64, entries: u64| {
        guest_sdk::hypercall::mmuext_op(&[MmuextOp {
            cmd: MMUEXT_SET_LDT,
            _pad0: 0,
            arg1: linear,
            arg2: entries,
        }])
    };
    let loaded = set_ldt(page.va, 2);
    // Selector 8, table indicator (LDT), RPL 3.
    let rights = access_rights(0x8 | 4 | 3).map(dpl);
    let beyond = access_rights(0x10 | 4 | 3).map(dpl);
    let released = set_ldt(0, 0);
    let writable_again = tables.remap(page.va, page.mfn, PRESENT | RW | ACCESSED);
    println!(
        "check own ldt: {loaded:?}, entry 1 DPL {rights:?}, entry 2 (past the limit) {beyond:?}, released {released:?}, writable again {}",
        writable_again.is_ok()
    );
}

fn main(info: &'static StartInfo) -> ! {
    // "portable": only what real Xen offers too (the oracle scenario runs it
    // there); "debug-exit": leave QEMU through the debug port at the end.
    let portable = command_line(info).contains("portable");
    match xen_version() {
        Ok((major, minor)) => println!("check xen_version: {major}.{minor}"),
        Err(error) => println!("check xen_version: failed {error}"),
    }

    if let Err(error) = install(&[(0, on_divide_error), (3, on_breakpoint), (7, on_device_not_available)]) {
        println!("check traps: set_trap_table failed {error}");
    }
    divide_by_zero();
    let [vector, cs, ss, ran] = DIVIDE.each_ref().map(|value| value.load(Ordering::Relaxed));
    println!("check divide handler: ran {ran} vector {vector} cs {cs:#x} ss {ss:#x}, resumed");
    breakpoint();
    let [vector, rip] = BREAKPOINT.each_ref().map(|value| value.load(Ordering::Relaxed));
    println!("check breakpoint handler: vector {vector}, rip after int3 {}", rip != 0);

    fpu_instruction();
    let before = DEVICE_NOT_AVAILABLE.load(Ordering::Relaxed);
    let switched = fpu_taskswitch(true);
    fpu_instruction();
    fpu_instruction();
    let after = DEVICE_NOT_AVAILABLE.load(Ordering::Relaxed);
    println!("check fpu_taskswitch: {switched:?}, #NM before {before}, after {after}");

    println!("check sse: 40 + 2 = {}", guest_sdk::fault::sse_sum(40, 2));

    // Control registers as the hypervisor shows them; CR3 names the boot
    // L4's frame.
    let [cr0, _, cr3, cr4] = guest_sdk::control_registers::read();
    let boot_l4 = guest_sdk::page_table::boot_manager(info).boot_root(info).mfn;
    println!(
        "check control registers: cr0 {cr0:#x} cr4 {cr4:#x}, cr3 is the boot L4 {}",
        cr3 >> 12 == boot_l4
    );
    // MSRs as Xen shows them to a PV guest: the APIC base, PAT, and an
    // unknown one, read as 0 while the guest has no #GP handler.
    let [apic_base, pat, unknown, efer] = [0x1b, 0x277, 0x123, 0xc000_0080].map(guest_sdk::msr::read);
    println!("check msrs: apic base {apic_base:#x}, pat {pat:#x}, unknown {unknown:#x}, efer {efer:#x}");
    // Debug registers through set_debugreg/get_debugreg, and the refusals.
    use guest_sdk::hypercall::{get_debugreg, set_debugreg};
    println!(
        "check debug registers: dr6 {:#x} dr7 {:#x}, dr0 on the hypervisor {:?}, GD {:?}, dr8 {:?} / {}",
        get_debugreg(6),
        get_debugreg(7),
        set_debugreg(0, 0xffff_8300_0000_0000),
        set_debugreg(7, 1 << 13),
        set_debugreg(8, 0),
        get_debugreg(8)
    );

    // The hypervisor's CPUID view through the forced-emulation prefix: its
    // own leaves, and the host's leaves with what PV guests may not use
    // hidden (both runs use the same QEMU CPU model).
    let first = guest_sdk::cpuid::forced(0x4000_0000, 0);
    println!(
        "check forced cpuid 0x40000000: {first:x?}, xen {:?}",
        guest_sdk::cpuid::xen_leaves(first).is_some()
    );
    for leaf in [0x4000_0001, 0x4000_0002, 0x4000_0004] {
        println!("check forced cpuid {leaf:#x}: {:x?}", guest_sdk::cpuid::forced(leaf, 0));
    }
    for leaf in [0, 1, 7, 0x8000_0000, 0x8000_0001, 0x8000_0008, 0x8000_000a, 0x8000_0021] {
        println!("check forced cpuid {leaf:#x}: {:x?}", guest_sdk::cpuid::forced(leaf, 0));
    }

    vcpu_areas(info);
    own_gdt(info);
    direct_pte_write(info);
    own_ldt(info);

    match console_write_at(0xdead_0000, 16) {
        Err(error) => println!("check console_io bad pointer: {error}"),
        Ok(value) => println!("check console_io bad pointer: returned {value}"),
    }
    println!("check unknown hypercall: {}", raw(47, [0; 5]));
    if !portable {
        // xen-core's extra entry; real Xen keeps int 0x82 for 32-bit guests.
        println!("check int 0x82 xen_version: {:#x}", raw_int82(nr::XEN_VERSION, [0; 5]));
    }

    let text = b"multicall console line\n";
    let mut batch = [
        MulticallEntry {
            op: u64::from(nr::CONSOLE_IO),
            result: 1,
            args: [0, text.len() as u64, text.as_ptr() as u64, 0, 0, 0],
        },
        MulticallEntry {
            op: u64::from(nr::XEN_VERSION),
            result: 1,
            args: [0; 6],
        },
        MulticallEntry {
            op: 99,
            result: 1,
            args: [0; 6],
        },
        MulticallEntry {
            op: u64::from(nr::IRET),
            result: 1,
            args: [0; 6],
        },
    ];
    // iret inside a multicall: xen-core refuses it (-EINVAL); real Xen runs
    // it and abandons the batch. Both answer XSA-213; only ours is checked.
    let entries = if portable { 3 } else { batch.len() };
    let outcome = multicall(&mut batch[..entries]);
    let results: [i64; 4] = batch.map(|entry| entry.result as i64);
    println!("check multicall: {outcome:?} results {:?}", &results[..entries]);
    println!("abi checks done");
    if command_line(info).contains("debug-exit") {
        let _ = guest_sdk::debug_exit::exit_qemu(guest_sdk::debug_exit::SUCCESS);
    }
    guest_sdk::sched::power_off()
}

guest_sdk::entry!(main);
