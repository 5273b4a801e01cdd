//! The guest-input fuzzer: random but well-aimed hypercall sequences from
//! three hostile domUs (page-table batches, base switches, page operations,
//! `update_va_mapping`, grants, event channels, multicalls, resumed
//! continuations and deaths), with every invariant checked after every step
//! (`checks.rs`): no panic, bounded work per invocation, the CPU on a
//! validated L4 of its domain, no translation it keeps reaching a frame the
//! domain may not reach, reference counts equal to a recount, and writes
//! only to frames the caller may write.
//!
//! `cargo test` runs a fixed-seed slice; `cargo xtask fuzz --minutes N`
//! runs [`long_run`] with fresh seeds until the time is up.

mod checks;
mod choices;
mod op_runner;
mod ops;
mod world;

use crate::arch::fake_mmu::Caching;
use ops::{FuzzOp, fuzz_op};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::cell::Cell;
use std::format;
use world::World;

/// Steps per case: long enough to build, switch and tear down tables, and
/// to pay for building the three domains.
const STEPS: usize = 160;
/// Steps between two recounts of every reference.
const RECOUNT_EVERY: usize = 8;

/// Runs one case; the hypercall invocations it made.
fn run_case(keeps_translations: bool, ops: &[FuzzOp]) -> Result<u64, TestCaseError> {
    let caching = if keeps_translations {
        Caching::UntilFlushed
    } else {
        Caching::Nothing
    };
    let mut world = World::new(caching);
    let mut invocations = 0;
    for (index, op) in ops.iter().enumerate() {
        let Some(report) = world.step(op) else {
            continue;
        };
        invocations += report.invocations;
        let recount = index % RECOUNT_EVERY == RECOUNT_EVERY - 1 || index == ops.len() - 1;
        if let Err(broken) = checks::after_step(&world, &report, recount) {
            return Err(TestCaseError::fail(format!("step {index} ({op:?}): {broken}")));
        }
    }
    if !world.tear_down() {
        return Err(TestCaseError::fail(
            "a frame is still in use after every domain was destroyed",
        ));
    }
    Ok(invocations)
}

/// Runs `cases` cases from `seed`; the invocations made, or the failure
/// (shrunk by proptest to a short sequence).
fn run_cases(seed: [u8; 32], cases: u32) -> Result<u64, std::string::String> {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let invocations = Cell::new(0);
    runner
        .run(&(any::<bool>(), vec(fuzz_op(), 1..STEPS)), |(keeps, ops)| {
            invocations.set(invocations.get() + run_case(keeps, &ops)?);
            Ok(())
        })
        .map_err(|failure| format!("{failure}"))?;
    Ok(invocations.get())
}

#[test]
fn a_fixed_seed_slice_of_hostile_sequences_breaks_nothing() {
    let invocations = run_cases(*b"xen-core fuzzer, fixed CI slice.", 32).unwrap_or_else(|failure| panic!("{failure}"));
    std::println!("fuzzer: {invocations} hypercall invocations, no invariant broken");
    assert!(invocations > 1000, "the slice made hypercalls");
}

/// The long run: fresh seeds until `XEN_CORE_FUZZ_SECONDS` (default 60)
/// have passed, printing what ran.
#[test]
#[ignore = "long: run by cargo xtask fuzz"]
fn long_run() {
    let seconds: u64 = std::env::var("XEN_CORE_FUZZ_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(60);
    let start = std::time::Instant::now();
    let (mut rounds, mut invocations) = (0u64, 0u64);
    let mut seeds = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let salt: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |time| time.as_nanos() as u64);
    while start.elapsed().as_secs() < seconds {
        let mut seed = [0u8; 32];
        seeds.fill_bytes(&mut seed);
        seed[..8].copy_from_slice(&(salt ^ rounds).to_le_bytes());
        match run_cases(seed, 16) {
            Ok(count) => invocations += count,
            Err(failure) => panic!(
                "after {} s and about {invocations} hypercall invocations, seed {seed:02x?}: {failure}",
                start.elapsed().as_secs()
            ),
        }
        rounds += 1;
    }
    std::println!(
        "fuzzer: {} cases, {invocations} hypercall invocations in {} s, no invariant broken",
        rounds * 16,
        start.elapsed().as_secs()
    );
}
