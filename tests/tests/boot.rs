//! Boot scenarios: the hypervisor comes up, reports what the loader gave it and
//! halts with the success code.

use tests::Boot;
use xen_core::debug_exit::DebugExit;

#[test]
fn boots_and_prints_the_banner_memory_map_and_bundle() {
    let outcome = Boot::new("").run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("xen-core 0.1.0");
    outcome.expect_line("command line: \"\"");
    // q35 with 128 MiB: low RAM, RAM above 1 MiB, and QEMU's reserved areas.
    let map = outcome.expect_line("memory map (");
    assert!(map.contains("127 MiB of RAM"), "{map}");
    outcome.expect_line("0x000000000000-0x00000009fc00 RAM");
    outcome.expect_line("reserved 0x000000000000-0x000000100000 firmware and loader data");
    outcome.expect_line("hypervisor image");
    outcome.expect_line("boot bundle");
    outcome.expect_line("paging: own page tables at mfn");
    outcome.expect_line("file manifest");
    outcome.expect_line("file hello.elf");
    outcome.expect_line("domain dom0     dom0 kernel hello.elf");
    outcome.expect_line("cmdline \"hello from the boot bundle\"");
    outcome.expect_line("d0 (dom0 dom0): hello.elf \"xen-core-guest\"");
}

#[test]
fn the_memory_map_follows_the_machine() {
    let outcome = Boot::new("").with_memory(512).run();
    outcome.expect_verdict(DebugExit::Success);
    let map = outcome.expect_line("memory map (");
    assert!(map.contains("511 MiB of RAM"), "{map}");
    let free = outcome.expect_line("frames: ");
    let frames: u64 = free
        .split_whitespace()
        .nth(3)
        .and_then(|n| n.parse().ok())
        .expect("a frame count");
    // 512 MiB less the low 1 MiB, the image, the bundle and QEMU's own areas.
    assert!((120_000..131_072).contains(&frames), "{free}");
}

#[test]
fn the_command_line_sets_the_log_level() {
    let quiet = Boot::new("loglvl=error").run();
    quiet.expect_verdict(DebugExit::Success);
    assert!(
        !quiet.printed("memory map ("),
        "info lines printed at loglvl=error:\n{}",
        quiet.tail()
    );

    let unknown = Boot::new("loglvl=chatty").run();
    unknown.expect_verdict(DebugExit::Success);
    unknown.expect_line("unknown loglvl=chatty");
}
