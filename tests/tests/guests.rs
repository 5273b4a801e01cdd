//! Guest scenarios: example guests from guest-sdk run as dom0 and check the
//! hypercall ABI from the inside.

use std::sync::OnceLock;
use tests::{Boot, Outcome};
use xen_core::debug_exit::DebugExit;
use xtask::bundle::{Bundle, Domain};

#[test]
fn hello_as_dom0_prints_and_powers_off() {
    let outcome = Boot::new("").with_guest("hello").run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("hello from the xen-core demo guest");
    outcome.expect_line("running as dom0 with 8192 pages, command line \"hello from the boot bundle\"");
    outcome.expect_line("domain 0 (dom0) powered off");
}

#[test]
fn a_guest_dividing_by_zero_without_a_handler_is_crashed_and_reported() {
    let outcome = Boot::new("").with_guest("divide_by_zero").run();
    outcome.expect_verdict(DebugExit::GuestCrashed);
    outcome.expect_line("dividing by zero with no trap handler");
    let report = outcome.expect_line("exception 0 (#DE divide error) at rip 0xffffffff8");
    assert!(report.contains("no trap handler for vector 0"), "{report}");
    outcome.expect_line("domain 0 (dom0) crashed: unhandled exception");
    assert!(!outcome.printed("still running after #DE"), "{}", outcome.tail());
}

/// The abi_checks guest, booted once for all the checks below.
fn abi_checks() -> &'static Outcome {
    static OUTCOME: OnceLock<Outcome> = OnceLock::new();
    OUTCOME.get_or_init(|| {
        let outcome = Boot::new("").with_guest("abi_checks").run();
        outcome.expect_verdict(DebugExit::Success);
        outcome.expect_line("abi checks done");
        outcome
    })
}

#[test]
fn a_trap_handler_receives_the_exception_with_xens_frame_and_resumes() {
    // Kernel-mode origin: RPL cleared in the saved CS (0xe030), SS 0xe02b.
    abi_checks().expect_line("check divide handler: ran 1 vector 0 cs 0xe030 ss 0xe02b, resumed");
    abi_checks().expect_line("check breakpoint handler: vector 3, rip after int3 true");
}

#[test]
fn console_io_with_a_bad_pointer_is_efault_and_the_guest_goes_on() {
    abi_checks().expect_line("check console_io bad pointer: EFAULT (-14)");
}

#[test]
fn an_unknown_hypercall_is_enosys() {
    abi_checks().expect_line("check unknown hypercall: -38");
}

#[test]
fn multicall_runs_a_batch_and_reports_each_result() {
    // console_io 0, xen_version 4.17 = 0x40011, unknown -ENOSYS, iret -EINVAL.
    abi_checks().expect_line("multicall console line");
    abi_checks().expect_line("check multicall: Ok(()) results [0, 262161, -38, -22]");
}

#[test]
fn xen_version_reports_the_interface_we_implement() {
    abi_checks().expect_line("check xen_version: 4.17");
}

#[test]
fn the_int_0x82_gate_is_a_hypercall_entry_too() {
    abi_checks().expect_line("check int 0x82 xen_version: 0x40011");
}

#[test]
fn fpu_taskswitch_makes_the_next_fpu_instruction_trap_once() {
    // No #NM without the virtual TS; one after setting it (the hypervisor
    // clears it as it bounces), and the second FPU instruction runs freely.
    abi_checks().expect_line("check fpu_taskswitch: Ok(()), #NM before 0, after 1");
}

#[test]
fn guests_may_use_sse() {
    abi_checks().expect_line("check sse: 40 + 2 = 42");
}

#[test]
fn a_syscall_from_32_bit_code_crashes_the_guest_not_the_hypervisor() {
    // With CSTAR unset the CPU would run address 0 in ring 0.
    let outcome = Boot::new("").with_guest("compat_syscall").run();
    outcome.expect_verdict(DebugExit::GuestCrashed);
    outcome.expect_line("running syscall from 32-bit code");
    outcome.expect_line("syscall from 32-bit code at rip 0x");
    outcome.expect_line("domain 0 (dom0) crashed: 32-bit syscall");
    assert!(
        !outcome.printed("still running after a 32-bit syscall"),
        "{}",
        outcome.tail()
    );
}

const DOMU_CRASH: Bundle = Bundle::new(
    "domu_crash",
    &[
        Domain::new("dom0", "dom_exc_watch", "memory=32M"),
        Domain::new("crasher", "divide_by_zero", "memory=16M"),
    ],
);

/// Two domains: dom0 sleeps in SCHEDOP_poll on VIRQ_DOM_EXC while a domU
/// runs and divides by zero. The domU is crashed alone, with one log line,
/// destroyed (its frames back), dom0 is woken by VIRQ_DOM_EXC (or finds the
/// domU gone, if it crashed before the bind) and goes on.
#[test]
fn a_crashing_domu_is_reported_to_dom0_which_goes_on() {
    let outcome = Boot::new("").with_domains(&DOMU_CRASH).run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("d1 (domU crasher): divide_by_zero.elf");
    outcome.expect_line("(d1) dividing by zero with no trap handler");
    outcome.expect_line("domain 1 (crasher) crashed: unhandled exception");
    let given_back = outcome.expect_line("domain 1's memory given back: ");
    assert!(given_back.contains("0 still referenced"), "{given_back}");
    // The domU starts with dom0 and may crash before dom0 binds the VIRQ
    // (then dom0 finds it gone); the ping_pong_crash scenario has the
    // crash come on dom0's signal, after the bind, every time.
    if !outcome.printed("dom0: d1 had ended before VIRQ_DOM_EXC was bound, and dom0 goes on") {
        outcome.expect_line("dom0: VIRQ_DOM_EXC on port 1, waiting for a domain to end");
        outcome.expect_line("dom0: woken by VIRQ_DOM_EXC: a domain ended, and dom0 goes on");
    }
    outcome.expect_line("domain 0 (dom0) powered off");
}
