//! The smallest guest-sdk kernel: prints what it was given and powers off.
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
    guest_sdk::sched::power_off()
}

guest_sdk::entry!(main);
