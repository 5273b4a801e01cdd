//! Divides by zero without a trap handler: the hypervisor must crash the
//! domain, say so, and carry on (here: end the run with the crash code).
#![no_std]
#![no_main]

use guest_sdk::println;
use guest_sdk::start_info::StartInfo;

fn main(_info: &'static StartInfo) -> ! {
    println!("dividing by zero with no trap handler");
    guest_sdk::fault::divide_by_zero();
    println!("still running after #DE: the hypervisor did not crash us");
    guest_sdk::sched::power_off()
}

guest_sdk::entry!(main);
