//! The cost of validating and releasing a large page-table tree: 64 L1s of
//! 512 entries under one L2 and one L3 (33,792 entries), unhooked from the
//! L4 by one `mmu_update` and hooked back by another. xen-core splits each
//! into invocations of at most 2048 entries (a release cut short finishes at
//! the next request); Xen preempts on time. Both are timed from the guest,
//! continuations included, and given per entry.

use crate::mmu::BENCH_VA;
use guest_sdk::hypercall::mmu_update;
use guest_sdk::page_table::{PAGE_SIZE, PRESENT, PageTableError, PageTableManager, XenMmu};
use guest_sdk::println;
use guest_sdk::start_info::StartInfo;
use guest_sdk::time::rdtsc;
use xen_abi::mmu::MmuUpdate;

/// The tree's place: the L4 slot after the other page-table benchmarks'.
const TREE_VA: u64 = BENCH_VA + (1 << 39);
/// L1 tables in the tree.
const L1S: u64 = 64;
/// Entries validated (and released) with it: the L3's, the L2's, the L1s'.
const ENTRIES: u64 = (L1S + 2) * 512;

/// Builds the tree (every page mapping one frame read-only), then times
/// unhooking and hooking it.
pub fn benchmarks(info: &'static StartInfo, tables: &mut PageTableManager<XenMmu>) -> Result<(), PageTableError> {
    let root = tables.boot_root(info).mfn;
    let data = tables.allocate_frame()?;
    for page in 0..L1S * 512 {
        tables.map(root, TREE_VA + page * PAGE_SIZE, data.mfn, PRESENT)?;
    }
    tables.flush()?;
    let slot = (TREE_VA >> 39) & 511;
    let entry = tables.entry(root, slot)?;
    let pointer = (root << 12) + slot * 8;
    let timed = |value: u64| {
        let start = rdtsc();
        let result = mmu_update(&[MmuUpdate {
            ptr: pointer,
            val: value,
        }]);
        (rdtsc() - start, result)
    };
    let (release, unhooked) = timed(0);
    unhooked.map_err(|(error, _)| PageTableError::Xen(error))?;
    // Hooking it back first finishes the release, then validates the tree.
    let (validate, hooked) = timed(entry);
    hooked.map_err(|(error, _)| PageTableError::Xen(error))?;
    println!(
        "bench tree_round_trip: {} per entry",
        (release + validate) / (2 * ENTRIES)
    );
    // On xen-core the unhooking call is one invocation that spends its whole
    // budget on the release: the worst case of one invocation.
    println!("bench tree_unhook_call: {release} per call");
    Ok(())
}
