//! A domU that prints on its PV console: it waits (at most 5 s) for dom0's
//! backend to connect, prints a few lines, among them one with bytes a
//! backend must not pass on raw, and powers off.
#![no_std]
#![no_main]

use guest_sdk::start_info::StartInfo;
use guest_sdk::{println, pv_console, sched, time, upcall};

fn main(info: &'static StartInfo) -> ! {
    if let Err(error) = upcall::start(info) {
        println!("console_client: starting events failed: {error}");
        sched::crash()
    }
    let deadline = time::now() + 5_000_000_000;
    while !pv_console::connected() {
        if time::now() >= deadline {
            println!("console_client: no console backend within 5 s");
            sched::crash()
        }
        let _ = time::sleep(1_000_000);
    }
    println!("hello from a domU on its PV console");
    println!("a line with an escape \x1b[31m and a bell \x07");
    println!("console_client: done");
    sched::power_off()
}

guest_sdk::entry!(main);
