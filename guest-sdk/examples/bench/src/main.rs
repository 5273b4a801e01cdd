//! Times hypercalls with the time-stamp counter, which under QEMU's
//! `-icount shift=0` counts guest instructions, then leaves QEMU through the
//! debug-exit port: three simple hypercalls per call, `mmu_update` per entry
//! at batch sizes 1, 16 and 256 and `update_va_mapping` of one PTE with
//! INVLPG ([`mmu`]), validating and releasing a large tree ([`tree`]), event channels
//! ([`events`]), grants ([`grants`]), and a user program's system call
//! and a trapped page-table write ([`user_mode`]). The same binary runs on
//! xen-core and on real Xen (`cargo xtask bench` boots both). With
//! `partner=<domid>` on the command line it also measures against that
//! domain, which runs this image with `role=echo`.
#![no_std]
#![no_main]

use core::hint::black_box;
use guest_sdk::hypercall::{console_write, xen_version};
use guest_sdk::page_table::boot_manager;
use guest_sdk::println;
use guest_sdk::start_info::{StartInfo, command_line, parameter};
use measure::per_call;

mod events;
mod grants;
mod measure;
mod mmu;
mod tree;
mod user_mode;

fn main(info: &'static StartInfo) -> ! {
    let line = command_line(info);
    if parameter(line, "role") == Some("echo") {
        let result = guest_sdk::upcall::start(info).and_then(|()| events::echo());
        println!("echo: {result:?}");
        guest_sdk::sched::crash()
    }
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
    let mut tables = boot_manager(info);
    let bench_l1 = mmu::benchmarks(info, &mut tables);
    if let Err(error) = tree::benchmarks(info, &mut tables) {
        println!("bench tree: {error}");
    }
    if let Err(error) = guest_sdk::upcall::start(info).and_then(|()| events::loopback()) {
        println!("bench events: {error}");
    }
    if let Some(partner) = parameter(line, "partner").and_then(|id| id.parse().ok())
        && let Err(error) = events::two_domains(partner)
    {
        println!("bench two domains: {error}");
    }
    if let Err(error) = grants::benchmarks(&mut tables) {
        println!("bench grants: {error}");
    }
    if let Some((l1, frames)) = bench_l1
        && let Err(error) = user_mode::benchmarks(info, &mut tables, l1, frames)
    {
        println!("bench user mode: {error}");
    }
    if let Err(error) = guest_sdk::debug_exit::exit_qemu(guest_sdk::debug_exit::SUCCESS) {
        println!("debug-exit refused: {error}");
    }
    guest_sdk::sched::power_off()
}

guest_sdk::entry!(main);
