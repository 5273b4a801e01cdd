//! Times three hypercalls per call with the time-stamp counter, which under
//! QEMU's `-icount shift=0` counts guest instructions, then leaves QEMU
//! through the debug-exit port. The same binary runs on xen-core and on real
//! Xen (`cargo xtask bench` boots both).
#![no_std]
#![no_main]

use core::hint::black_box;
use guest_sdk::hypercall::{console_write, xen_version};
use guest_sdk::println;
use guest_sdk::start_info::StartInfo;
use guest_sdk::time::rdtsc;

/// Calls per measurement.
const CALLS: u64 = 2000;

/// Ticks per iteration of `body`, over [`CALLS`] iterations.
fn per_call(mut body: impl FnMut()) -> u64 {
    let start = rdtsc();
    for _ in 0..CALLS {
        body();
    }
    (rdtsc() - start) / CALLS
}

fn main(_info: &'static StartInfo) -> ! {
    let empty = per_call(|| black_box(()));
    let version = per_call(|| {
        black_box(xen_version().ok());
    });
    let console = per_call(|| {
        black_box(console_write(&[]).ok());
    });
    let yielding = per_call(|| {
        black_box(guest_sdk::sched::yield_now().ok());
    });
    println!("bench loop: {empty} per iteration");
    println!("bench xen_version: {version} per call");
    println!("bench console_io: {console} per call");
    println!("bench sched_op_yield: {yielding} per call");
    if let Err(error) = guest_sdk::debug_exit::exit_qemu(guest_sdk::debug_exit::SUCCESS) {
        println!("debug-exit refused: {error}");
    }
    guest_sdk::sched::power_off()
}

guest_sdk::entry!(main);
