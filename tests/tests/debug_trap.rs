//! #DB on its own stack (IST), as on Xen: a debug trap taken in ring 0 with
//! the stack pointer somewhere bad is survived, and a guest single-stepping
//! through its hypercalls keeps its steps and its hypervisor.

use tests::Boot;
use xen_core::debug_exit::DebugExit;

/// Where a guest's debug trap deferred past `mov ss` would land: ring 0,
/// the first instruction of `syscall_entry`, RSP still the guest's. Here
/// RSP points at an unmapped page; without an IST stack the CPU could not
/// push the #DB frame and would double-fault.
#[test]
fn a_ring_0_debug_trap_on_a_bad_stack_is_noted_and_survived() {
    let outcome = Boot::new("crash=db").run();
    outcome.expect_verdict(DebugExit::Success);
    let note = outcome.expect_line("#DB in hypervisor context at rip 0xffff82d08");
    assert!(note.contains("rsp 0x00000000deadc000"), "{note}");
    assert!(note.contains("on the #DB IST stack"), "{note}");
    outcome.expect_line("crash=db: survived, the boot goes on");
    assert!(!outcome.printed("*** CRASH"), "{}", outcome.tail());
}

/// A guest single-stepping (TF) through its hypercalls: through the
/// hypercall page, through `int 0x82`, and each right after a `mov ss`,
/// which on hardware makes the CPU deliver the step it owes on the first
/// instruction of the hypervisor's entry (XSA-260; QEMU's TCG delivers it
/// right after the `mov ss`). Every hypercall is answered, the guest's #DB
/// handler gets its steps, and stepping goes on after each return.
#[test]
fn a_guest_single_stepping_through_its_hypercalls_keeps_its_steps() {
    let outcome = Boot::new("").with_guest("single_step").run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("check single-step over the hypercall page: Ok((4, 17)), every stub instruction stepped true");
    outcome.expect_line("check single-step over int 0x82: 0x40011, stepped true");
    outcome.expect_line("check mov ss then syscall: answered, stepping went on after the return true");
    outcome.expect_line("check mov ss then int 0x82: answered, stepping went on after the return true");
    outcome.expect_line("single-step: stray traps 0");
    outcome.expect_line("single-step checks done");
    assert!(!outcome.printed("*** CRASH"), "{}", outcome.tail());
}
