//! Single-steps through hypercalls: through the hypercall page (`syscall`),
//! through `int 0x82`, and each of them right after a `mov ss`, where
//! hardware delivers the step the `mov ss` owes in ring 0, on the first
//! instruction of the hypervisor's entry. The hypervisor must survive each,
//! answer the hypercall, and leave TF to the guest, whose steps go on after
//! the return. One line per check for the QEMU scenario.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};
use guest_sdk::fault::{HypercallEntry, clear_trap_flag, mov_ss_then_hypercall, set_trap_flag};
use guest_sdk::hypercall::{raw_int82, xen_version};
use guest_sdk::println;
use guest_sdk::start_info::StartInfo;
use guest_sdk::traps::{TrapFrame, install};
use xen_abi::hypercall as nr;
use xen_abi::mmu::{HYPERVISOR_VIRT_END, HYPERVISOR_VIRT_START};

/// Steps the #DB handler has seen.
static STEPS: AtomicU64 = AtomicU64::new(0);
/// Steps reported at an address in the hypervisor's reserved range: a
/// step of the hypervisor's own code, passed on to the guest.
static STRAY: AtomicU64 = AtomicU64::new(0);

/// The hypervisor's reserved range of addresses (L4 slots 256-271).
const HYPERVISOR_RANGE: core::ops::Range<u64> = HYPERVISOR_VIRT_START..HYPERVISOR_VIRT_END;
/// What XENVER_version answers for 4.17.
const VERSION_4_17: i64 = 0x40011;
/// Instructions the guest runs after a hypercall returns before TF is off:
/// the `pushfq`, `and` and `popfq` that clear it, each followed by a step.
const STEPS_AFTER_RETURN: u64 = 3;

fn on_debug(frame: &mut TrapFrame) {
    if HYPERVISOR_RANGE.contains(&frame.rip) {
        STRAY.fetch_add(1, Ordering::Relaxed);
    }
    STEPS.fetch_add(1, Ordering::Relaxed);
}

/// Runs `body` and returns its result with the steps taken meanwhile.
fn counting<R>(body: impl FnOnce() -> R) -> (R, u64) {
    let before = STEPS.load(Ordering::Relaxed);
    let result = body();
    (result, STEPS.load(Ordering::Relaxed) - before)
}

fn main(_info: &'static StartInfo) -> ! {
    if let Err(error) = install(&[(1, on_debug)]) {
        println!("single-step: set_trap_table failed {error}");
    }

    let (version, steps) = counting(|| {
        set_trap_flag();
        let version = xen_version();
        clear_trap_flag();
        version
    });
    // The stub's own instructions trap, except the `syscall` (the
    // hypervisor masks TF on entry): push, push, mov, then pop, pop, ret.
    println!(
        "check single-step over the hypercall page: {version:?}, every stub instruction stepped {}",
        steps >= 5
    );

    let (version, steps) = counting(|| {
        set_trap_flag();
        let version = raw_int82(nr::XEN_VERSION, [0; 5]);
        clear_trap_flag();
        version
    });
    println!(
        "check single-step over int 0x82: {version:#x}, stepped {}",
        steps >= STEPS_AFTER_RETURN
    );

    for (entry, name) in [
        (HypercallEntry::Syscall, "syscall"),
        (HypercallEntry::Int82, "int 0x82"),
    ] {
        let (version, steps) = counting(|| mov_ss_then_hypercall(entry, nr::XEN_VERSION, [0; 5]));
        println!(
            "check mov ss then {name}: {}, stepping went on after the return {}",
            if version == VERSION_4_17 {
                "answered"
            } else {
                "wrong answer"
            },
            steps >= STEPS_AFTER_RETURN
        );
    }

    println!("single-step: stray traps {}", STRAY.load(Ordering::Relaxed));
    println!("single-step checks done");
    guest_sdk::sched::power_off()
}

guest_sdk::entry!(main);
