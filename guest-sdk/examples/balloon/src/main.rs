//! A domU that follows its memory target (`memory/target` in xenstore,
//! which dom0 sets) with the SDK's balloon, as Linux's balloon driver does,
//! and checks its memory on the way:
//!
//! - before anything moves, every frame the balloon may give back or keeps
//!   gets a word naming it;
//! - frames it gives back go; frames it keeps still hold their words;
//! - frames it takes arrive scrubbed (every byte zero: nothing of the domain
//!   that had them before), then hold what it writes.
//!
//! When the hypervisor has too few free frames it tries again 20 ms later.
//! Once it holds `expect=<MiB>` it reports and powers off.
#![no_std]
#![no_main]

use guest_sdk::balloon::{Balloon, BalloonMemory, GuestMemory, Step};
use guest_sdk::memory::{current_reservation, maximum_reservation};
use guest_sdk::page_table::{ACCESSED, Frame, MmuBackend, PRESENT, PageTableManager, RW, XenMmu};
use guest_sdk::start_info::{StartInfo, command_line, parameter};
use guest_sdk::{println, sched, time, upcall, xenstore};
use xen_abi::mmu::DOMID_SELF;

const MILLISECOND: u64 = 1_000_000;
/// Gives up if the target is not met by then.
const PATIENCE: u64 = 20_000 * MILLISECOND;
/// Pages libxl adds to maxmem for `max_pages`.
const MAXMEM_SLACK_PAGES: u64 = 256;

/// The value of a step, or a crash that says which step failed.
fn check<T, E: core::fmt::Debug>(result: Result<T, E>, step: &str) -> T {
    result.unwrap_or_else(|error| {
        println!("balloon: {step} failed: {error:?}");
        sched::crash()
    })
}

/// The word frame `pfn` holds while the domain has it.
fn word_of(pfn: u64) -> u64 {
    0xba11_0000_0000_0000 | pfn
}

/// Maps machine frame `mfn` at `window` and gives its first word and
/// whether every word is zero.
fn look(tables: &mut PageTableManager<XenMmu>, window: &Frame, mfn: u64) -> (u64, bool) {
    check(tables.remap(window.va, mfn, PRESENT | RW | ACCESSED), "mapping a frame");
    let zero = (0..512).all(|word| tables.backend().read_u64(window.va + word * 8) == 0);
    (tables.backend().read_u64(window.va), zero)
}

/// Writes `pfn`'s word into machine frame `mfn`.
fn mark(tables: &mut PageTableManager<XenMmu>, window: &Frame, pfn: u64, mfn: u64) {
    check(tables.remap(window.va, mfn, PRESENT | RW | ACCESSED), "mapping a frame");
    tables.backend().write_u64(window.va, word_of(pfn));
}

/// The target in frames, from `memory/target` (KiB).
fn target() -> Option<u64> {
    let mut text = [0u8; 24];
    let length = xenstore::read("memory/target", &mut text).ok()?;
    let kib: u64 = core::str::from_utf8(&text[..length]).ok()?.parse().ok()?;
    Some(kib / 4)
}

fn main(info: &'static StartInfo) -> ! {
    check(upcall::start(info), "starting events");
    check(xenstore::start(info), "starting xenstore");
    let expect = parameter(command_line(info), "expect").and_then(|mib| mib.parse::<u64>().ok());
    let Some(expect) = expect.map(|mib| mib * 256) else {
        println!("balloon: give expect=<MiB>");
        sched::crash()
    };
    let start = check(current_reservation(DOMID_SELF), "current_reservation");
    let maximum = check(maximum_reservation(DOMID_SELF), "maximum_reservation") - MAXMEM_SLACK_PAGES;
    let mut tables = guest_sdk::page_table::boot_manager(info);
    let first = tables.boot_region_end_pfn(info);
    let window = check(tables.allocate_frame(), "a window frame");
    let window_mfn = window.mfn;
    let mut memory = check(GuestMemory::new(&mut tables, info, maximum), "the balloon's table");
    let mut balloon = Balloon::new(first, info.nr_pages, maximum);
    for pfn in balloon.backed() {
        let mfn = memory.mfn(pfn).unwrap_or(0);
        mark(memory.tables(), &window, pfn, mfn);
    }
    // The window must not keep a frame the balloon may give back: a frame
    // still mapped stays the domain's, and counted, until unmapped.
    check(
        memory.tables().remap(window.va, window_mfn, PRESENT | RW | ACCESSED),
        "unmapping the window",
    );
    check(xenstore::watch("memory/target", "target"), "watching memory/target");

    let deadline = time::now() + PATIENCE;
    let (mut short, mut gave, mut took) = (0u32, 0u64, 0u64);
    loop {
        let held = check(current_reservation(DOMID_SELF), "current_reservation");
        if held == expect {
            break;
        }
        let step = match target() {
            Some(target) => check(balloon.step(&mut memory, held, target), "a balloon step"),
            None => Step::Limited,
        };
        match step {
            Step::Gave(count) => gave += count,
            Step::Took(count) => took += count,
            Step::Short(count) => {
                took += count;
                short += 1;
                check(time::sleep(20 * MILLISECOND), "sleeping");
            }
            Step::Reached | Step::Limited => {
                check(xenstore::wait_for_watch(time::now() + 100 * MILLISECOND), "waiting");
            }
        }
        if time::now() > deadline {
            println!("balloon: held {held} pages, never {expect}; gave {gave}, took {took}");
            sched::crash()
        }
    }
    if short > 0 {
        println!("balloon: the hypervisor was short of free frames {short} times");
    }

    // What it kept holds its words; what it took came scrubbed and now holds
    // what is written.
    let (mut intact, mut scrubbed, mut written) = (true, true, true);
    for pfn in balloon.backed() {
        let mfn = memory.mfn(pfn).unwrap_or(0);
        if pfn < info.nr_pages {
            intact &= look(memory.tables(), &window, mfn).0 == word_of(pfn);
        } else {
            scrubbed &= look(memory.tables(), &window, mfn).1;
            mark(memory.tables(), &window, pfn, mfn);
            written &= look(memory.tables(), &window, mfn).0 == word_of(pfn);
        }
    }
    check(
        memory.tables().remap(window.va, window_mfn, PRESENT | RW | ACCESSED),
        "unmapping the window",
    );
    println!(
        "balloon: from {} MiB to {} MiB (gave {gave} pages, took {took}); kept pages intact {intact}, new pages scrubbed {scrubbed}, written {written}",
        start / 256,
        expect / 256
    );
    sched::power_off()
}

guest_sdk::entry!(main);
