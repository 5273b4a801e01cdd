//! Times hypercalls with the time-stamp counter, which under QEMU's
//! `-icount shift=0` counts guest instructions, then leaves QEMU through the
//! debug-exit port: three simple hypercalls per call, `mmu_update` per entry
//! at batch sizes 1, 16 and 256, `update_va_mapping` of one PTE with
//! INVLPG, validating and releasing a large tree ([`tree`]), event channels
//! ([`events`]) and grants ([`grants`]). The same binary runs on
//! xen-core and on real Xen (`cargo xtask bench` boots both). With
//! `partner=<domid>` on the command line it also measures against that
//! domain, which runs this image with `role=echo`.
#![no_std]
#![no_main]

use core::hint::black_box;
use guest_sdk::hypercall::{console_write, mmu_update, update_va_mapping, xen_version};
use guest_sdk::page_table::{PAGE_SIZE, PRESENT, PageTableManager, XenMmu, boot_manager};
use guest_sdk::println;
use guest_sdk::start_info::{StartInfo, command_line, parameter};
use guest_sdk::time::rdtsc;
use xen_abi::mmu::{MmuUpdate, UVMF_INVLPG};

mod events;
mod grants;
mod tree;

/// Calls per measurement.
const CALLS: u64 = 2000;

/// Where the page-table benchmarks map their pages: L4 slot 64, unused.
pub const BENCH_VA: u64 = 0x0000_2000_0000_0000;
/// The largest `mmu_update` batch measured: one whole L1.
const LARGEST_BATCH: usize = 256;

/// Ticks per iteration of `body`, over [`CALLS`] iterations.
fn per_call(mut body: impl FnMut()) -> u64 {
    per_iteration(CALLS, |_| body())
}

/// Ticks per iteration of `body(iteration)`, over `count` iterations.
fn per_iteration(count: u64, mut body: impl FnMut(u64)) -> u64 {
    let start = rdtsc();
    for iteration in 0..count {
        body(iteration);
    }
    (rdtsc() - start) / count
}

/// `mmu_update` and `update_va_mapping` costs: `LARGEST_BATCH` pages at
/// [`BENCH_VA`], mapped read-only to one of two frames; every call points
/// entries at the other one, so each update takes a reference and drops one.
fn page_table_benchmarks(info: &'static StartInfo, tables: &mut PageTableManager<XenMmu>) {
    let root = tables.boot_root(info).mfn;
    let frames = [tables.allocate_frame(), tables.allocate_frame()];
    let [Ok(first), Ok(second)] = frames else {
        println!("bench setup: no frames");
        return;
    };
    let mfns = [first.mfn, second.mfn];
    for page in 0..LARGEST_BATCH as u64 {
        if let Err(error) = tables.map(root, BENCH_VA + page * PAGE_SIZE, first.mfn, PRESENT) {
            println!("bench setup: {error}");
            return;
        }
    }
    if let Err(error) = tables.flush() {
        println!("bench setup: {error}");
        return;
    }
    let Ok(Some([.., l1])) = tables.table_path(root, BENCH_VA) else {
        println!("bench setup: the tables just made cannot be read");
        return;
    };
    let l1 = l1 << 12;
    let mut requests = [MmuUpdate { ptr: 0, val: 0 }; LARGEST_BATCH];
    for batch in [1, 16, LARGEST_BATCH] {
        // Fewer calls for larger batches: about the same number of entries.
        let count = (CALLS / batch as u64).max(100);
        let ticks = per_iteration(count, |iteration| {
            let mfn = mfns[(iteration as usize + 1) % 2];
            for (slot, request) in requests[..batch].iter_mut().enumerate() {
                *request = MmuUpdate {
                    ptr: l1 + slot as u64 * 8,
                    val: (mfn << 12) | PRESENT,
                };
            }
            black_box(mmu_update(&requests[..batch]).ok());
        });
        println!("bench mmu_update_{batch}: {} per entry", ticks / batch as u64);
    }
    let ticks = per_call(|| {
        black_box(update_va_mapping(BENCH_VA, (mfns[0] << 12) | PRESENT, UVMF_INVLPG).ok());
    });
    println!("bench update_va_mapping_invlpg: {ticks} per call");
}

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
    page_table_benchmarks(info, &mut tables);
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
    if let Err(error) = guest_sdk::debug_exit::exit_qemu(guest_sdk::debug_exit::SUCCESS) {
        println!("debug-exit refused: {error}");
    }
    guest_sdk::sched::power_off()
}

guest_sdk::entry!(main);
