//! The runner itself: a dead machine or a hung one is never mistaken for a
//! verdict.

use std::panic::catch_unwind;
use std::time::Duration;
use tests::Boot;
use xen_core::debug_exit::DebugExit;

/// The message `expect_verdict` fails with, or `None` if it passed.
fn verdict_failure(outcome: &tests::Outcome, verdict: DebugExit) -> Option<String> {
    let result = catch_unwind(std::panic::AssertUnwindSafe(|| outcome.expect_verdict(verdict)));
    result.err().map(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "non-string panic".to_string())
    })
}

#[test]
fn a_triple_fault_is_neither_success_nor_failure_verdict() {
    let outcome = Boot::new("crash=triple").run();
    assert_eq!(outcome.status, Some(0), "{}", outcome.tail());
    for verdict in [DebugExit::Success, DebugExit::Failure] {
        let message = verdict_failure(&outcome, verdict).expect("a triple fault must not pass");
        assert!(message.contains("triple-faulted"), "{message}");
    }
}

#[test]
fn a_boot_that_outlives_its_timeout_is_a_failure() {
    let outcome = Boot::new("").with_timeout(Duration::from_millis(1)).run();
    assert_eq!(outcome.status, None);
    let message = verdict_failure(&outcome, DebugExit::Success).expect("a timeout must not pass");
    assert!(message.contains("timed out"), "{message}");
}

#[test]
fn a_success_status_without_its_verdict_line_is_a_failure() {
    let mut outcome = Boot::new("").run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.serial.retain(|line| !line.contains(tests::SUCCESS_VERDICT));
    let message = verdict_failure(&outcome, DebugExit::Success).expect("a missing verdict line must not pass");
    assert!(message.contains("no verdict line"), "{message}");
}
