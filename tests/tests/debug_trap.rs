//! #DB on its own stack (IST), as on Xen: a debug trap taken in ring 0 with
//! the stack pointer somewhere bad is survived.

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

