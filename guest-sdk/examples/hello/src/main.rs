//! The smallest guest-sdk kernel: prints what it was given and powers off.
//!
//! With `debug-exit` on its command line it instead leaves QEMU through the
//! isa-debug-exit port, which works the same on real Xen (where a powered-off
//! dom0 just halts the machine): the real-Xen scenario boots it that way.
#![no_std]
#![no_main]

use guest_sdk::println;
use guest_sdk::start_info::{StartInfo, command_line, is_initial_domain};

fn main(info: &'static StartInfo) -> ! {
    println!("hello from the xen-core demo guest");
    let role = if is_initial_domain(info) { "dom0" } else { "a domU" };
    println!(
        "running as {role} with {} pages, command line \"{}\"",
        info.nr_pages,
        command_line(info)
    );
    // Virtual addresses and flags only: machine addresses differ between
    // hypervisors, these must not.
    println!(
        "start_info: flags {:#x}, page tables at {:#x} ({} frames), p2m list at {:#x}, module {:#x}+{}",
        info.flags, info.pt_base, info.nr_pt_frames, info.mfn_list, info.mod_start, info.mod_len
    );
    if command_line(info).contains("debug-exit") {
        println!("leaving QEMU through the debug-exit port");
        if let Err(error) = guest_sdk::debug_exit::exit_qemu(guest_sdk::debug_exit::SUCCESS) {
            println!("debug-exit refused: {error}");
        }
    }
    guest_sdk::sched::power_off()
}

guest_sdk::entry!(main);
