//! `mmu_update` per entry at batch sizes 1, 16 and 256, and
//! `update_va_mapping` of one PTE with INVLPG.

use crate::measure::{CALLS, per_call, per_iteration};
use core::hint::black_box;
use guest_sdk::hypercall::{mmu_update, update_va_mapping};
use guest_sdk::page_table::{PAGE_SIZE, PRESENT, PageTableManager, XenMmu};
use guest_sdk::println;
use guest_sdk::start_info::StartInfo;
use xen_abi::mmu::{MmuUpdate, UVMF_INVLPG};

/// Where the page-table benchmarks map their pages: L4 slot 64, unused.
pub const BENCH_VA: u64 = 0x0000_2000_0000_0000;
/// The largest `mmu_update` batch measured: one whole L1.
const LARGEST_BATCH: usize = 256;

/// `mmu_update` and `update_va_mapping` costs: `LARGEST_BATCH` pages at
/// [`BENCH_VA`], mapped read-only to one of two frames; every call points
/// entries at the other one, so each update takes a reference and drops one.
///
/// Returns the L1 mapping those pages and the two frames, for the direct
/// page-table write benchmark.
pub fn benchmarks(info: &'static StartInfo, tables: &mut PageTableManager<XenMmu>) -> Option<(u64, [u64; 2])> {
    let root = tables.boot_root(info).mfn;
    let frames = [tables.allocate_frame(), tables.allocate_frame()];
    let [Ok(first), Ok(second)] = frames else {
        println!("bench setup: no frames");
        return None;
    };
    let mfns = [first.mfn, second.mfn];
    for page in 0..LARGEST_BATCH as u64 {
        if let Err(error) = tables.map(root, BENCH_VA + page * PAGE_SIZE, first.mfn, PRESENT) {
            println!("bench setup: {error}");
            return None;
        }
    }
    if let Err(error) = tables.flush() {
        println!("bench setup: {error}");
        return None;
    }
    let Ok(Some([.., l1])) = tables.table_path(root, BENCH_VA) else {
        println!("bench setup: the tables just made cannot be read");
        return None;
    };
    let l1_mfn = l1;
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
    Some((l1_mfn, mfns))
}
