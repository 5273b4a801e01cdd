//! Memory changing hands at run time: ballooning, with dom0 setting the
//! targets as a toolstack would.

use tests::Boot;
use xen_core::debug_exit::DebugExit;
use xtask::bundle::{Bundle, Domain};

/// dom0 lowers A's target by 16 MiB and raises B's by 16 MiB (to its
/// `maxmem=`) as soon as both are introduced. The machine is sized so that
/// fewer than 16 MiB are free once the domains are built: B can only get
/// there with the frames A gives back.
const BALLOON: Bundle = Bundle::new(
    "ballooning",
    &[
        Domain::new("dom0", "dom0_services", "memory=16M cmdline=balloon=1:64,2:32"),
        Domain::new("a", "balloon", "memory=80M cmdline=expect=64"),
        Domain::new("b", "balloon", "memory=16M maxmem=32M cmdline=expect=32"),
    ],
);

#[test]
fn a_domain_gives_16_mib_back_and_another_grows_by_more_than_was_free() {
    let outcome = Boot::new("").with_domains(&BALLOON).with_memory(128).run();
    outcome.expect_verdict(DebugExit::Success);
    let free = outcome.number_after("frames:");
    let free_line = outcome.expect_line("free after building the domains");
    let free_after_build: u64 = free_line
        .split_whitespace()
        .find_map(|word| word.parse().ok())
        .unwrap_or_else(|| panic!("{free_line}"));
    assert!(free > free_after_build);
    assert!(
        free_after_build < 16 * 256,
        "fewer than 16 MiB free once built ({free_after_build} frames): B needs A's frames"
    );
    outcome.expect_line("dom0: d1's memory target is now 64 MiB");
    outcome.expect_line("dom0: d2's memory target is now 32 MiB");
    outcome.expect_line(
        "[d1] balloon: from 80 MiB to 64 MiB (gave 4096 pages, took 0); kept pages intact true, \
         new pages scrubbed true, written true",
    );
    outcome.expect_line(
        "[d2] balloon: from 16 MiB to 32 MiB (gave 0 pages, took 4096); kept pages intact true, \
         new pages scrubbed true, written true",
    );
}
