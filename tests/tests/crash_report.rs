//! Crash scenarios: an exception or panic in the hypervisor, taken on purpose
//! with `crash=`, prints a crash report and ends the run with the failure code.

use tests::{Boot, Outcome};
use xen_core::debug_exit::DebugExit;

fn crash(kind: &str) -> Outcome {
    let outcome = Boot::new(&format!("crash={kind}")).run();
    outcome.expect_verdict(DebugExit::Failure);
    outcome
}

/// The report's register lines: RIP in the hypervisor image, our code selector.
fn assert_registers_reported(outcome: &Outcome) {
    let rip = outcome.expect_line("rip 0x");
    assert!(rip.contains("rip 0xffff82d08"), "RIP outside the image: {rip}");
    assert!(rip.contains("cs 0xe008"), "{rip}");
    outcome.expect_line("cr2 0x");
    outcome.expect_line("rax 0x");
    outcome.expect_line("r15 0x");
}

#[test]
fn invalid_opcode_is_reported() {
    let outcome = crash("ud");
    outcome.expect_line("*** CRASH: exception 6 (#UD invalid opcode), error code 0x0");
    outcome.expect_line("on the boot stack (frame at 0xffff82d08");
    assert_registers_reported(&outcome);
}

#[test]
fn page_fault_reports_the_faulting_address() {
    let outcome = crash("pf");
    outcome.expect_line("*** CRASH: exception 14 (#PF page fault), error code 0x0");
    outcome.expect_line("cr2 0x00000000deadb000");
    assert_registers_reported(&outcome);
}

#[test]
fn general_protection_is_reported() {
    let outcome = crash("gp");
    outcome.expect_line("*** CRASH: exception 13 (#GP general protection)");
    assert_registers_reported(&outcome);
}

#[test]
fn divide_error_is_reported() {
    let outcome = crash("de");
    outcome.expect_line("*** CRASH: exception 0 (#DE divide error)");
    assert_registers_reported(&outcome);
}

#[test]
fn stack_overflow_hits_the_guard_page_and_double_faults_on_its_own_stack() {
    let outcome = crash("stack");
    outcome.expect_line("*** CRASH: exception 8 (#DF double fault)");
    outcome.expect_line("on the #DF IST stack (frame at 0xffff82d08");
    assert_registers_reported(&outcome);
}

#[test]
fn panic_is_reported_with_its_location_and_message() {
    let outcome = crash("panic");
    let line = outcome.expect_line("*** PANIC at ");
    assert!(line.contains("deliberate panic from the command line"), "{line}");
}

#[test]
fn an_unknown_crash_switch_is_a_clear_error() {
    let outcome = crash("sideways");
    outcome.expect_line("crash=sideways: unknown");
}
