//! Real Xen as the oracle: the same guest binary boots as dom0 on Debian's
//! Xen 4.17 and on xen-core, prints the same lines, leaves QEMU the same way,
//! and is laid out at the same addresses by both domain builders.

use std::sync::OnceLock;
use std::time::Duration;
use tests::{Boot, Outcome, images, run_command};
use xtask::bundle::{Bundle, Domain};
use xtask::real_xen::{ensure_real_xen, real_xen_command, real_xen_command_with_module};

/// Real Xen under TCG takes about a second to reach dom0; leave room for a
/// loaded CI machine.
const REAL_XEN_TIMEOUT: Duration = Duration::from_secs(120);

/// hello as its run on real Xen boots it: 64 MiB (Xen's `dom0_mem=64M`) and
/// `debug-exit` on its command line.
const HELLO_AS_ON_REAL_XEN: Bundle = Bundle::new(
    "hello-debug-exit",
    &[Domain::new("dom0", "hello", "memory=64M cmdline=debug-exit")],
);

/// abi_checks likewise, limited to the checks real Xen answers too.
const ABI_CHECKS_AS_ON_REAL_XEN: Bundle = Bundle::new(
    "abi_checks-portable",
    &[Domain::new(
        "dom0",
        "abi_checks",
        "memory=64M cmdline=portable debug-exit",
    )],
);

/// Lines the guest printed (not the hypervisor's, not QEMU's), with the one
/// deliberate difference taken out: real Xen sets SIF_PM_MASK bits in dom0's
/// start_info flags (0x300: "the hypervisor controls processor P- and
/// C-states, upload the ACPI data"), and xen-core, which has no power
/// management, does not claim it.
fn guest_lines(outcome: &Outcome) -> Vec<String> {
    outcome
        .serial
        .iter()
        .filter(|line| !line.starts_with("(XEN)") && !line.starts_with("[qemu") && !line.trim().is_empty())
        .map(|line| line.replacen("start_info: flags 0x303,", "start_info: flags 0x3,", 1))
        .collect()
}

/// The dom0 layout as xen-core logs it: kernel, p2m, start_info, page tables,
/// stack, end.
fn our_layout(outcome: &Outcome) -> Vec<u64> {
    let line = outcome.expect_line("d0: kernel 0x");
    line.split([' ', ',', '-'])
        .filter_map(|word| word.strip_prefix("0x"))
        .map(|hex| u64::from_str_radix(hex, 16).unwrap())
        .collect()
}

/// The same addresses from real Xen's "VIRTUAL MEMORY ARRANGEMENT".
fn xen_layout(outcome: &Outcome) -> Vec<u64> {
    let range = |label: &str| -> (u64, u64) {
        let line = outcome.expect_line(label);
        let (start, end) = line.rsplit_once(' ').unwrap().1.split_once("->").unwrap();
        (
            u64::from_str_radix(start, 16).unwrap(),
            u64::from_str_radix(end, 16).unwrap(),
        )
    };
    let (kernel_start, kernel_end) = range("Loaded kernel:");
    let (p2m_start, p2m_end) = range("Phys-Mach map:");
    let (start_info, _) = range("Start info:");
    let (tables_start, tables_end) = range("Page tables:");
    let (stack, _) = range("Boot stack:");
    let (_, end) = range("TOTAL:");
    std::vec![
        kernel_start,
        kernel_end,
        p2m_start,
        p2m_end,
        start_info,
        tables_start,
        tables_end,
        stack,
        end
    ]
}

/// hello booted once on each hypervisor, shared by the tests (and so the
/// download of real Xen happens once).
fn both_runs() -> &'static (Outcome, Outcome) {
    static RUNS: OnceLock<(Outcome, Outcome)> = OnceLock::new();
    RUNS.get_or_init(|| {
        let xen = ensure_real_xen().unwrap_or_else(|error| panic!("fetching real Xen: {error}"));
        let hello = images().image_of("hello").expect("hello is built");
        let cmdline = HELLO_AS_ON_REAL_XEN.domains[0].cmdline();
        let real = run_command(real_xen_command(&xen, hello, cmdline, 64, "qemu64"), REAL_XEN_TIMEOUT);
        let ours = Boot::new("").with_domains(&HELLO_AS_ON_REAL_XEN).run();
        (real, ours)
    })
}

#[test]
fn hello_boots_prints_and_exits_the_same_on_real_xen_and_on_xen_core() {
    let (real, ours) = both_runs();
    assert_eq!(real.status, Some(33), "real Xen run; last lines:\n{}", real.tail());
    assert_eq!(ours.status, Some(33), "xen-core run; last lines:\n{}", ours.tail());

    let expected = guest_lines(ours);
    assert_eq!(expected.len(), 4, "hello's four lines: {expected:?}");
    assert_eq!(
        expected[1],
        "running as dom0 with 16384 pages, command line \"debug-exit\""
    );
    let printed = guest_lines(real);
    let mut from = 0;
    for line in &expected {
        let at = printed[from..].iter().position(|real_line| real_line == line);
        assert!(
            at.is_some(),
            "real Xen's guest did not print {line:?}; it printed {printed:?}"
        );
        from += at.unwrap_or(0) + 1;
    }
}

#[test]
fn our_domain_builder_lays_dom0_out_exactly_as_real_xen_does() {
    let (real, ours) = both_runs();
    assert_eq!(
        our_layout(ours),
        xen_layout(real),
        "kernel, p2m, start_info, page tables, stack, end"
    );
}

#[test]
fn abi_checks_give_the_same_answers_on_real_xen_and_on_xen_core() {
    let xen = ensure_real_xen().unwrap_or_else(|error| panic!("fetching real Xen: {error}"));
    let guest = images().image_of("abi_checks").expect("abi_checks is built");
    let cmdline = ABI_CHECKS_AS_ON_REAL_XEN.domains[0].cmdline();
    let command = real_xen_command(&xen, guest, cmdline, 64, "qemu64");
    let real = run_command(command, REAL_XEN_TIMEOUT);
    assert_eq!(real.status, Some(33), "real Xen run; last lines:\n{}", real.tail());
    let ours = Boot::new("").with_domains(&ABI_CHECKS_AS_ON_REAL_XEN).run();
    assert_eq!(ours.status, Some(33), "xen-core run; last lines:\n{}", ours.tail());
    let checks = |outcome: &Outcome| -> Vec<String> {
        outcome
            .serial
            .iter()
            .filter(|line| line.starts_with("check "))
            .cloned()
            .collect()
    };
    let expected = checks(&ours);
    assert!(expected.len() >= 7, "the guest's checks: {expected:?}");
    assert_eq!(checks(&real), expected, "every check answered the same");
}

/// The guest's own lines from a run of `guest` on real Xen, which it leaves
/// through the debug-exit port.
fn on_real_xen(guest: &str) -> Outcome {
    let xen = ensure_real_xen().unwrap_or_else(|error| panic!("fetching real Xen: {error}"));
    let image = images().image_of(guest).unwrap_or_else(|| panic!("{guest} is built"));
    let real = run_command(
        real_xen_command(&xen, image, "debug-exit", 64, "qemu64"),
        REAL_XEN_TIMEOUT,
    );
    assert_eq!(real.status, Some(33), "real Xen run; last lines:\n{}", real.tail());
    real
}

#[test]
fn the_page_table_manager_builds_the_same_address_space_on_real_xen_and_on_xen_core() {
    let real = on_real_xen("address_space");
    let ours = Boot::new("").with_guest("address_space").run();
    let expected = guest_lines(&ours);
    assert_eq!(expected.len(), 6, "the guest's lines: {expected:?}");
    assert_eq!(
        guest_lines(&real),
        expected,
        "the same lines, hypercall counts included"
    );
}

#[test]
fn a_user_program_runs_the_same_on_real_xen_and_on_xen_core() {
    let real = on_real_xen("user_process");
    let ours = Boot::new("").with_guest("user_process").run();
    assert_eq!(ours.status, Some(33), "xen-core run; last lines:\n{}", ours.tail());
    let expected = guest_lines(&ours);
    assert_eq!(
        expected,
        [
            "user space ready: code at 0x400000, stack at 0x7ff000, the heap page unmapped",
            "user program says: hello from user mode",
            "user page fault at 0x600000 (error code 0x6): mapped a page",
            "user program reports 0x2a",
            "user program reports 0x566e6558",
            "user breakpoint hit at 0x400040 from user mode true, dr6 0xffff0ff1",
            "user program exited with 7",
            "again, on the kernel's own GDT selectors 0x33 and 0x2b",
            "user program says: hello from user mode",
            "user program reports 0x2a",
            "user program reports 0x566e6558",
            "user program exited with 7",
        ],
        "a system call, a fault mapped on demand, the value back, the CPUID signature (\"XenV\"), \
         an instruction breakpoint in user mode, exit; then again on the kernel's own GDT selectors"
    );
    assert_eq!(guest_lines(&real), expected);
}

#[test]
fn memory_reservations_and_exchanges_answer_the_same_on_real_xen_and_on_xen_core() {
    let real = on_real_xen("reservation");
    let ours = Boot::new("").with_guest("reservation").run();
    assert_eq!(ours.status, Some(33), "xen-core run; last lines:\n{}", ours.tail());
    let expected = guest_lines(&ours);
    assert_eq!(expected.len(), 15, "the guest's lines: {expected:?}");
    assert!(
        expected.iter().filter(|line| line.contains(" false")).count() == 0,
        "every property holds on xen-core: {expected:?}"
    );
    assert_eq!(
        guest_lines(&real),
        expected,
        "the reservation queries, the maps, populate and decrease round trips, an exchange \
         for a contiguous extent below 4 GiB, and the refusals read the same"
    );
}

/// boot_module as dom0 with a module, as real Xen gets it: 64 MiB.
const BOOT_MODULE_AS_ON_REAL_XEN: Bundle = Bundle::new(
    "boot_module-with-module",
    &[Domain::new(
        "dom0",
        "boot_module",
        "memory=64M ramdisk=module.bin cmdline=debug-exit",
    )],
);

/// A module of a few pages and a bit, with a first line to print and bytes
/// that differ page to page.
fn module_bytes() -> Vec<u8> {
    let mut bytes = b"xen-core boot module: the first line\n".to_vec();
    bytes.extend((0..3 * 4096 + 123u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    bytes
}

/// FNV-1a, 64-bit, as the guest computes it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[test]
fn a_boot_module_is_placed_named_and_read_back_the_same_on_real_xen_and_on_xen_core() {
    let module = module_bytes();
    let path = std::env::temp_dir().join(format!("xen-core-module-{}.bin", std::process::id()));
    std::fs::write(&path, &module).unwrap();
    let xen = ensure_real_xen().unwrap_or_else(|error| panic!("fetching real Xen: {error}"));
    let image = images().image_of("boot_module").expect("boot_module is built");
    let real = run_command(
        real_xen_command_with_module(&xen, image, "debug-exit", Some(&path), 64, "qemu64"),
        REAL_XEN_TIMEOUT,
    );
    let _ = std::fs::remove_file(&path);
    assert_eq!(real.status, Some(33), "real Xen run; last lines:\n{}", real.tail());
    let ours = Boot::new("")
        .with_domains_and_files(&BOOT_MODULE_AS_ON_REAL_XEN, &[("module.bin", &module)])
        .run();
    assert_eq!(ours.status, Some(33), "xen-core run; last lines:\n{}", ours.tail());
    let expected = guest_lines(&ours);
    assert_eq!(
        expected,
        [
            format!(
                "module: {} bytes, by frame number true, from pfn 0x400, within its pages true",
                module.len()
            ),
            format!(
                "module: fnv-1a {:#018x}, first line \"xen-core boot module: the first line\"",
                fnv1a(&module)
            ),
            "module checks done".to_string(),
        ],
        "every byte read back, from the frames after the boot region's power-of-two block"
    );
    assert_eq!(guest_lines(&real), expected, "placed and read the same on real Xen");
}

/// p2m_placement as dom0 with 64 MiB, as on_real_xen runs it.
const P2M_PLACEMENT_AS_ON_REAL_XEN: Bundle = Bundle::new(
    "p2m_placement-64m",
    &[Domain::new("dom0", "p2m_placement", "memory=64M cmdline=debug-exit")],
);

#[test]
fn a_p2m_list_where_the_guest_asks_is_placed_and_numbered_the_same_on_real_xen_and_on_xen_core() {
    let real = on_real_xen("p2m_placement");
    let ours = Boot::new("").with_domains(&P2M_PLACEMENT_AS_ON_REAL_XEN).run();
    assert_eq!(ours.status, Some(33), "xen-core run; last lines:\n{}", ours.tail());
    let expected = guest_lines(&ours);
    assert_eq!(
        expected,
        [
            // 64 MiB: a 4 MiB region (1024 frames), then an L3, an L2, an
            // L1 and the list's 32 pages.
            "p2m: mfn_list 0x8000000000 (asked 0x8000000000), first_p2m_pfn 0x400, nr_p2m_frames 35, \
             nr_pages 16384, nr_pt_frames 5",
            "p2m: the list and the M2P agree for every frame true",
            "p2m checks done",
        ]
    );
    assert_eq!(guest_lines(&real), expected, "start_info's p2m fields read the same");
}

/// Debian's stock kernel (a bzImage with an xz payload, INIT_P2M at 512
/// GiB, MOD_START_PFN, a FEATURES note without NUL) as dom0 with 256 MiB:
/// both hypervisors unpack it and lay it out at the same addresses, the
/// p2m list where it asked. What Linux does after its first instruction is
/// not compared here; real Xen's run is cut once its layout is printed.
#[test]
fn debians_kernel_is_unpacked_and_laid_out_exactly_as_real_xen_lays_it_out() {
    let vmlinuz =
        xtask::debian_kernel::ensure_debian_kernel().unwrap_or_else(|error| panic!("Debian's kernel: {error}"));
    let xen = ensure_real_xen().unwrap_or_else(|error| panic!("fetching real Xen: {error}"));
    let real = run_command(
        real_xen_command(&xen, &vmlinuz, "console=hvc0", 256, "qemu64"),
        Duration::from_secs(15),
    );
    let file = std::fs::read(&vmlinuz).unwrap();
    let manifest = "xen-core-manifest 1\ndomain dom0 kernel=vmlinuz memory=256M cmdline=console=hvc0\n";
    let path = xtask::workspace_root()
        .join("target")
        .join("bundle")
        .join("debian-kernel.tar");
    xtask::bundle::write_bundle(&path, manifest, &[("vmlinuz", &file)]).unwrap();
    let ours = Boot::new("")
        .with_bundle(Some(path))
        .with_memory(512)
        .with_timeout(Duration::from_secs(60))
        .run();
    ours.expect_line("d0: kernel vmlinuz is a bzImage holding a Xz-compressed ELF of");
    let expected = xen_layout(&real);
    assert_eq!(expected[2], 0x80_0000_0000, "real Xen put the p2m where Linux asked");
    assert_eq!(
        our_layout(&ours),
        expected,
        "kernel, p2m, start_info, page tables, stack, end"
    );
}

#[test]
fn the_attacker_gets_xens_errno_for_every_attack_real_xen_refuses_too() {
    let real = on_real_xen("attacker");
    let ours = Boot::new("").with_guest("attacker").run();
    let verdicts = |outcome: &Outcome| -> Vec<String> {
        guest_lines(outcome)
            .into_iter()
            .filter(|line| line.starts_with("attack"))
            .collect()
    };
    // Two deliberate differences: real Xen allows read-only linear page
    // tables (xen-core refuses them, closing XSA-182 and XSA-185), and lets
    // dom0 map I/O frame 0 (xen-core gives no domain I/O memory yet).
    let allowed_by_xen = [
        "attack linear page table: L4 entry pointing at itself",
        "attack map a frame we do not own",
    ];
    let expected: Vec<String> = verdicts(&ours)
        .into_iter()
        .map(
            |line| match allowed_by_xen.iter().find(|prefix| line.starts_with(*prefix)) {
                Some(prefix) => format!("{prefix}: ALLOWED"),
                None => line,
            },
        )
        .collect();
    assert_eq!(expected.len(), 24, "23 verdicts and the tally: {expected:?}");
    let mut expected = expected;
    *expected.last_mut().unwrap() = "attacks done: 21 refused, 2 allowed".to_string();
    assert_eq!(verdicts(&real), expected);
}
