//! The `memory_op` oracle: the same lines on real Xen and on xen-core. Reads
//! its reservation and the maps, populates frames beyond its memory and
//! writes to them, gives them back, and exchanges scattered frames for one
//! machine-contiguous extent below 4 GiB, as a driver domain does for DMA.
#![no_std]
#![no_main]

use guest_sdk::memory::*;
use guest_sdk::page_table::{ACCESSED, MmuBackend, PRESENT, PageTableManager, RW, XenMmu};
use guest_sdk::println;
use guest_sdk::shared_info::SHARED_INFO;
use guest_sdk::start_info::{StartInfo, command_line};
use guest_sdk::xen_error::XenError;
use xen_abi::hypercall as nr;
use xen_abi::memory::{E820_RAM, E820Entry, XENMEM_ADD_TO_PHYSMAP, XENMEM_GET_VNUMAINFO};
use xen_abi::mmu::{DOMID_SELF, MACH2PHYS_VIRT_START};

/// The errno of a result, for lines that must read the same on both.
fn errno<T>(result: Result<T, XenError>) -> Option<xen_abi::errno::Errno> {
    result.err().and_then(XenError::errno)
}

fn main(info: &'static StartInfo) -> ! {
    let pages = info.nr_pages;
    let held = || current_reservation(DOMID_SELF);
    println!("check reservation: current is its pages {}", held() == Ok(pages));
    println!(
        "check limits: maximum {:?}, another domain {:?}",
        maximum_reservation(DOMID_SELF),
        errno(current_reservation(7))
    );
    let unset = maximum_gpfn(DOMID_SELF);
    if let Err(error) = guest_sdk::shared_info::map(info) {
        println!("check: shared_info not mapped: {error}");
    }
    SHARED_INFO.set_max_pfn(pages);
    println!(
        "check maximum gpfn: {unset:?} unset, then its pages - 1 {}",
        maximum_gpfn(DOMID_SELF) == Ok(pages - 1)
    );
    let ram_page = maximum_ram_page().unwrap_or(0);
    match machphys_mapping() {
        Ok(mapping) => println!(
            "check machphys mapping: {:#x}..{:#x}, up to the last RAM frame {}",
            mapping.v_start,
            mapping.v_end,
            mapping.max_mfn + 1 == ram_page
        ),
        Err(error) => println!("check machphys mapping: {error}"),
    }
    let mut runs = [0u64; 64];
    let listed = machphys_mfn_list(&mut runs);
    let count = listed.unwrap_or(0) as u64;
    println!(
        "check machphys mfn list: {:?}, covers every frame {}, runs 2 MiB-aligned {}",
        listed.map(|_| ()),
        count * (2 << 20) / 8 >= ram_page,
        runs[..count as usize].iter().all(|mfn| mfn.is_multiple_of(512))
    );
    let mut map = [E820Entry::default(); 64];
    println!("check memory map (dom0 has none): {:?}", errno(memory_map(&mut map)));
    let entries = machine_memory_map(&mut map).unwrap_or(0);
    let ram: u64 = map[..entries]
        .iter()
        .filter(|entry| entry.kind == E820_RAM)
        .map(|entry| entry.size / 4096)
        .sum();
    println!("check machine memory map: RAM holds its pages {}", ram > pages);

    let mut tables = guest_sdk::page_table::boot_manager(info);
    let Ok(window) = tables.allocate_frame() else {
        println!("check: no frame");
        guest_sdk::sched::power_off()
    };
    let m2p =
        |tables: &mut PageTableManager<XenMmu>, mfn: u64| tables.backend().read_u64(MACH2PHYS_VIRT_START + mfn * 8);

    // Four frames beyond its memory, at pseudo-physical frames it chooses.
    let mut frames = [pages, pages + 1, pages + 2, pages + 3];
    let populated = populate_physmap(&mut frames, 0, 0);
    let numbered = (0..4).all(|i| m2p(&mut tables, frames[i]) == pages + i as u64);
    println!(
        "check populate: {populated:?}, held +4 {}, the M2P names its frames {numbered}",
        held() == Ok(pages + 4)
    );
    // Each new frame is scrubbed and ours to write.
    let mut written = true;
    for &mfn in &frames {
        let mapped = tables.remap(window.va, mfn, PRESENT | RW | ACCESSED).is_ok();
        let scrubbed = tables.backend().read_u64(window.va + 8) == 0;
        tables.backend().write_u64(window.va + 8, mfn ^ 0x5a5a);
        written &= mapped && scrubbed && tables.backend().read_u64(window.va + 8) == mfn ^ 0x5a5a;
    }
    let _ = tables.remap(window.va, window.mfn, PRESENT | RW | ACCESSED);
    println!("check new frames: scrubbed and writable {written}");
    let given = decrease_reservation(&mut frames.clone(), 0);
    println!(
        "check decrease: {given:?}, held back to its pages {}",
        held() == Ok(pages)
    );
    println!(
        "check decrease again: {:?} (no longer its frames)",
        decrease_reservation(&mut frames[..1], 0)
    );

    // Scattered frames for one contiguous extent below 4 GiB.
    let mut scattered = [pages, pages + 1, pages + 2, pages + 3];
    let _ = populate_physmap(&mut scattered, 0, 0);
    let mut contiguous = [pages];
    let (exchanged, result) = exchange(&mut scattered, 0, &mut contiguous, 2, 32);
    let first = contiguous[0];
    let numbered = (0..4).all(|i| m2p(&mut tables, first + i) == pages + i);
    println!(
        "check exchange: {exchanged} {result:?}, aligned {}, below 4 GiB {}, the M2P names its frames {numbered}, held {}",
        first.is_multiple_of(4),
        (first + 4) << 12 <= 1 << 32,
        held() == Ok(pages + 4)
    );
    println!(
        "check decrease order 2: {:?}, held {}",
        decrease_reservation(&mut contiguous, 2),
        held() == Ok(pages)
    );

    // What a PV guest may not use.
    let raw =
        |command: u32, argument: u64| guest_sdk::hypercall::raw(nr::MEMORY_OP, [u64::from(command), argument, 0, 0, 0]);
    let zeros = [0u64; 9];
    let mut own = [0u64; 5];
    own[0] = u64::from(DOMID_SELF);
    let mut huge_in = [0u64; 1];
    let mut huge_out = [pages];
    println!(
        "check refusals: unused {}, add_to_physmap {}, vnuma {}, exchange order 19 {:?}",
        raw(8, zeros.as_ptr() as u64),
        raw(XENMEM_ADD_TO_PHYSMAP, zeros.as_ptr() as u64),
        raw(XENMEM_GET_VNUMAINFO, own.as_mut_ptr() as u64),
        exchange(&mut huge_in, 19, &mut huge_out, 19, 0).1
    );
    println!("reservation checks done");
    if command_line(info).contains("debug-exit") {
        let _ = guest_sdk::debug_exit::exit_qemu(guest_sdk::debug_exit::SUCCESS);
    }
    guest_sdk::sched::power_off()
}

guest_sdk::entry!(main);
