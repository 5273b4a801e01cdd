//! Attacks CSTAR: switches to 32-bit code and executes `syscall`. With CSTAR
//! left at 0 the CPU would run address 0 in ring 0; xen-core must crash this
//! domain and go on.
#![no_std]
#![no_main]

use guest_sdk::println;
use guest_sdk::start_info::StartInfo;

fn main(_info: &'static StartInfo) -> ! {
    println!("running syscall from 32-bit code");
    guest_sdk::fault::compat_mode_syscall();
    println!("still running after a 32-bit syscall: the attack was not stopped");
    guest_sdk::sched::power_off()
}

guest_sdk::entry!(main);
