//! The INIT_P2M oracle: the same lines on real Xen and on xen-core. The
//! guest asks for its p2m list at 512 GiB, as Linux does, and prints where
//! start_info says the list and its frames are, and whether the list, read
//! where it was mapped, agrees with the M2P for every frame.
#![no_std]
#![no_main]

use guest_sdk::page_table::MmuBackend;
use guest_sdk::println;
use guest_sdk::start_info::{StartInfo, command_line};
use xen_abi::mmu::MACH2PHYS_VIRT_START;

/// Where Linux asks for its list: L4 slot 1.
const P2M_AT: u64 = 0x80_0000_0000;

guest_sdk::xen_note_u64!(xen_abi::elfnote::XEN_ELFNOTE_INIT_P2M, 0x80_0000_0000u64);

fn main(info: &'static StartInfo) -> ! {
    println!(
        "p2m: mfn_list {:#x} (asked {:#x}), first_p2m_pfn {:#x}, nr_p2m_frames {}, nr_pages {}, nr_pt_frames {}",
        info.mfn_list, P2M_AT, info.first_p2m_pfn, info.nr_p2m_frames, info.nr_pages, info.nr_pt_frames
    );
    let mut tables = guest_sdk::page_table::boot_manager(info);
    let backend = tables.backend();
    let mut agree = true;
    for pfn in 0..info.nr_pages {
        let mfn = backend.read_u64(info.mfn_list + pfn * 8);
        agree &= backend.read_u64(MACH2PHYS_VIRT_START + mfn * 8) == pfn;
    }
    println!("p2m: the list and the M2P agree for every frame {agree}");
    println!("p2m checks done");
    if command_line(info).contains("debug-exit") {
        let _ = guest_sdk::debug_exit::exit_qemu(guest_sdk::debug_exit::SUCCESS);
    }
    guest_sdk::sched::power_off()
}

guest_sdk::entry!(main);
