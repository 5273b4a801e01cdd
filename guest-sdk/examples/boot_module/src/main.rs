//! The boot-module oracle: the same lines on real Xen and on xen-core. The
//! guest carries the MOD_START_PFN note, as Linux does, so its module (its
//! initrd) comes unmapped, named by its first pseudo-physical frame. It reads
//! the module frame by frame through its p2m list and prints its length,
//! where it was put, an FNV-1a checksum of every byte and its first line.
#![no_std]
#![no_main]

use guest_sdk::boot_module::{BootModule, ModuleLocation};
use guest_sdk::println;
use guest_sdk::start_info::{StartInfo, command_line};

guest_sdk::module_by_frame_number!();

/// FNV-1a, 64-bit: the test computes the same over the file it packed.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Longest first line printed.
const LINE: usize = 64;

fn main(info: &'static StartInfo) -> ! {
    match BootModule::of(info) {
        None => println!("module: none"),
        Some(module) => report(info, &module),
    }
    println!("module checks done");
    if command_line(info).contains("debug-exit") {
        let _ = guest_sdk::debug_exit::exit_qemu(guest_sdk::debug_exit::SUCCESS);
    }
    guest_sdk::sched::power_off()
}

fn report(info: &StartInfo, module: &BootModule) {
    let (by_frame, first_pfn) = match module.location {
        ModuleLocation::Frames { first_pfn } => (true, first_pfn),
        ModuleLocation::Mapped { .. } => (false, 0),
    };
    println!(
        "module: {} bytes, by frame number {by_frame}, from pfn {first_pfn:#x}, within its pages {}",
        module.len,
        first_pfn + module.pages() <= info.nr_pages
    );
    let mut tables = guest_sdk::page_table::boot_manager(info);
    let Ok(window) = tables.allocate_frame() else {
        println!("module: no frame to map it through");
        return;
    };
    let mut hash = FNV_OFFSET;
    let mut line = [0u8; LINE];
    let (mut line_length, mut line_done) = (0, false);
    let read = module.read(&mut tables, &window, |bytes| {
        for &byte in bytes {
            hash = (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
            if !line_done {
                if byte == b'\n' || line_length == LINE {
                    line_done = true;
                } else {
                    line[line_length] = byte;
                    line_length += 1;
                }
            }
        }
    });
    if let Err(error) = read {
        println!("module: reading it failed: {error:?}");
        return;
    }
    let text = core::str::from_utf8(&line[..line_length]).unwrap_or("(not UTF-8)");
    println!("module: fnv-1a {hash:#018x}, first line \"{text}\"");
}

guest_sdk::entry!(main);
