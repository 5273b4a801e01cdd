//! Several domains at once: event channels between them, timers, CPU
//! shares, idling, and a death among them. Each scenario is one boot of a
//! multi-domain bundle, declared above its test.

use tests::{Boot, Outcome};
use xen_core::debug_exit::DebugExit;
use xtask::bundle::{Bundle, Domain};

/// The number after `label` in every line containing it, in order.
fn numbers_after(outcome: &Outcome, label: &str) -> Vec<u64> {
    outcome
        .serial
        .iter()
        .filter_map(|line| line.split(label).nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

const PING_PONG_CRASH: Bundle = Bundle::new(
    "ping_pong_crash",
    &[
        Domain::new("dom0", "ping_pong", "memory=16M cmdline=role=referee rounds=1000"),
        Domain::new("ping", "ping_pong", "memory=16M cmdline=role=ping rounds=1000"),
        Domain::new("pong", "ping_pong", "memory=16M cmdline=role=pong rounds=1000"),
        Domain::new("crasher", "ping_pong", "memory=16M cmdline=role=crasher"),
    ],
);

/// dom0 passes a token 1000 times around dom0 -> ping -> pong -> ping ->
/// dom0 over three interdomain channels, every hop a handler run from the
/// event upcall. Halfway it tells a fourth domain to crash: the crash is
/// reported to dom0 by VIRQ_DOM_EXC while the token goes on, and every
/// round completes.
#[test]
fn four_domains_ping_pong_over_event_channels_and_survive_a_crash() {
    let outcome = Boot::new("").with_domains(&PING_PONG_CRASH).run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("referee: connected to ping (port 2) and the crasher (port 3); 1000 rounds");
    outcome.expect_line("referee: 1000 of 1000 tokens came back through ping and pong");
    outcome.expect_line("(d1) ping: 1000 pongs, each passed back to dom0");
    outcome.expect_line("(d2) pong: 1000 pings answered");
    outcome.expect_line("(d3) crasher: told to crash; dividing by zero");
    outcome.expect_line("domain 3 (crasher) crashed: unhandled exception");
    let death = outcome.number_after("referee: VIRQ_DOM_EXC after round");
    assert!((500..1000).contains(&death), "death reported at round {death}");
    outcome.expect_line("referee: ping-pong passed");
}

const TIMERS_AND_SHARES: Bundle = Bundle::new(
    "timers_and_shares",
    &[
        // Booted with an instruction clock (`Boot::with_instruction_clock`):
        // wake-ups then come a few microseconds after their deadlines. On
        // host time they can be milliseconds late, and this limit fails.
        Domain::new("dom0", "time_share", "memory=16M cmdline=role=sleeper tolerance_us=50"),
        Domain::new(
            "spin256",
            "time_share",
            "memory=16M weight=256 cmdline=role=spinner until_ms=1500",
        ),
        Domain::new(
            "spin512",
            "time_share",
            "memory=16M weight=512 cmdline=role=spinner until_ms=1500",
        ),
        Domain::new("blocker", "time_share", "memory=16M cmdline=role=blocker"),
    ],
);

/// dom0 sleeps 1 to 100 ms at a time while two CPU-bound domUs with
/// weights 256 and 512 spin until system time 1.5 s, and a third domU
/// blocks with nothing to wake it. Every wake-up is on time (dom0 checks:
/// no timer upcall before its deadline, no return more than 50 us after
/// it), the spinners' CPU time is 1:2 within 10% (both by the hypervisor's
/// accounting and by their loop counts), the blocked domain uses no CPU
/// once it has blocked, and the CPU idles while dom0 sleeps alone.
///
/// Time is counted in guest instructions: on host time, a CPU-bound host
/// once made a 10 ms sleep look 6.9 ms late, as QEMU waited for the host.
#[test]
fn timers_wake_on_time_weights_share_the_cpu_and_a_blocked_domain_uses_none() {
    let outcome = Boot::new("")
        .with_domains(&TIMERS_AND_SHARES)
        .with_instruction_clock()
        .run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("sleeper: slept 100 ms; the timer upcall came ");
    outcome.expect_line("timers passed");
    let light = outcome.number_after("domain 1 destroyed: ran") as f64;
    let heavy = outcome.number_after("domain 2 destroyed: ran") as f64;
    let ratio = heavy / light;
    assert!(
        (1.8..=2.2).contains(&ratio),
        "CPU time {heavy} us : {light} us = {ratio}"
    );
    let light_loops = outcome.number_after("(d1) spinner:") as f64;
    let heavy_loops = outcome.number_after("(d2) spinner:") as f64;
    let loop_ratio = heavy_loops / light_loops;
    assert!((1.8..=2.2).contains(&loop_ratio), "iterations ratio {loop_ratio}");
    // Logged after each spinner's end and at the end of the run: from the
    // first spinner's end on (the second spinning, then dom0 sleeping
    // 200 ms) the blocked domain gets not one microsecond.
    let blocker = numbers_after(&outcome, "cpu time: d3 (blocker) ran ");
    assert_eq!(blocker.len(), 3, "{blocker:?}");
    assert_eq!(blocker[0], blocker[2], "the blocked domain ran meanwhile: {blocker:?}");
    assert!(blocker[2] < 50_000, "the blocked domain ran {} us in all", blocker[2]);
    let idle = *numbers_after(&outcome, "cpu time: idle ").last().unwrap();
    assert!(idle >= 190_000, "idle {idle} us while dom0 slept 200 ms alone");
}

/// dom0 binds VIRQ_CONSOLE and sleeps; a line typed on the serial console
/// wakes it (the hypervisor polls the UART and raises the VIRQ), and dom0
/// reads the line with CONSOLEIO_read.
#[test]
fn console_input_wakes_dom0_through_virq_console() {
    let outcome = Boot::new("")
        .with_guest("console_input")
        .with_input_after("waiting for a line", b"hello from the console\n")
        .run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("console_input: VIRQ_CONSOLE on port 1, waiting for a line");
    outcome.expect_line("console_input: read \"hello from the console\" after VIRQ_CONSOLE");
}

const GRANT_MAP: Bundle = Bundle::new(
    "grant_map",
    &[
        Domain::new("dom0", "grant_demo", "memory=16M cmdline=role=mapper"),
        Domain::new("granter", "grant_demo", "memory=16M cmdline=role=granter"),
    ],
);

/// A domU grants dom0 a page read-only. dom0's bad requests (a reference
/// beyond the table, an empty entry, a writable map of a read-only grant)
/// are refused with their statuses; then it maps the grant, reads the
/// domU's message and unmaps. The domU's revocation fails while dom0 has
/// the page mapped and succeeds after.
#[test]
fn a_domu_grants_a_page_that_dom0_maps_reads_and_unmaps() {
    let outcome = Boot::new("").with_domains(&GRANT_MAP).run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("(d1) granter: page 0x");
    outcome.expect_line("mapper: a reference beyond the table: refused (bad grant reference)");
    outcome.expect_line("mapper: an empty entry: refused (general error)");
    outcome.expect_line("mapper: a writable map of a read-only grant: refused (general error)");
    outcome.expect_line("mapper: mapped d1's reference 8 and read: hello from d1 through a grant!!");
    outcome.expect_line("(d1) granter: revoking while dom0 maps it: refused (in use)");
    outcome.expect_line("(d1) granter: revoked after dom0 unmapped");
    let given_back = outcome.expect_line("domain 1's memory given back: ");
    assert!(given_back.contains("0 still referenced"), "{given_back}");
    outcome.expect_line("mapper: grant demo passed");
}

const PV_CONSOLE: Bundle = Bundle::new(
    "pv_console",
    &[
        Domain::new("dom0", "dom0_services", "memory=16M"),
        Domain::new("client", "console_client", "memory=16M"),
    ],
);

/// dom0's console backend maps the console ring the builder granted it,
/// binds the console port, and prints the domU's output as its own log
/// lines with the `[d1]` prefix; control bytes arrive as `?`. The domU
/// switched from console_io to its ring when the backend connected.
#[test]
fn a_domus_pv_console_output_appears_in_dom0s_log_with_its_prefix() {
    let outcome = Boot::new("").with_domains(&PV_CONSOLE).run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("dom0: serving d1's console (window 0, port 3)");
    let line = outcome.expect_line("[d1] hello from a domU on its PV console");
    assert!(line.starts_with("[d1] "), "printed by dom0, not the hypervisor: {line}");
    outcome.expect_line("[d1] a line with an escape ?[31m and a bell ?");
    outcome.expect_line("[d1] console_client: done");
    assert!(
        !outcome.printed("(d1) hello from a domU"),
        "the line went through the ring, not console_io"
    );
    outcome.expect_line("dom0: d1 ended; its console is closed");
    expect_memory_back(&outcome, 1);
}

/// Domain `id`'s memory went back: at most its two rings were still mapped
/// by dom0 when its teardown (a few scheduling passes long) finished, and
/// those went back once dom0 unmapped them.
fn expect_memory_back(outcome: &Outcome, id: u16) {
    let label = format!("domain {id}'s memory given back: ");
    let freed = outcome.number_after(&label);
    let held = outcome.number_after(&format!("{freed} frames freed,"));
    assert!(freed > 4000 && held <= 2, "{freed} freed, {held} held");
    if held > 0 {
        outcome.expect_line("of ended domains given back, their last mapping gone");
    }
}

const XENSTORE: Bundle = Bundle::new(
    "xenstore",
    &[
        Domain::new("dom0", "dom0_services", "memory=16M"),
        Domain::new("client", "xenstore_client", "memory=16M cmdline=role=client"),
        Domain::new("hostile", "xenstore_client", "memory=16M cmdline=role=hostile"),
    ],
);

/// xenstored runs in dom0 over each domU's ring. The client reads what dom0
/// wrote when it introduced the domain, writes and reads back, is refused
/// another domain's node, commits a transaction, and does two watch round
/// trips with dom0. A hostile domU announces a 5000-byte message: its
/// connection is closed with the ring's error set, and the client's second
/// round trip, after that, is still served.
#[test]
fn xenstore_serves_a_domu_and_survives_a_hostile_one() {
    let outcome = Boot::new("").with_domains(&XENSTORE).run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("[d1] xenstore_client: my name is d1");
    outcome.expect_line("[d1] xenstore_client: my domid is 1");
    outcome.expect_line("[d1] xenstore_client: data/greeting reads back \"hello xenstore\"");
    outcome.expect_line("[d1] xenstore_client: another domain's node: refused (EACCES)");
    outcome.expect_line("[d1] xenstore_client: transaction committed; data/copy = \"hello xenstore\"");
    outcome.expect_line("[d1] xenstore_client: round trip 1: dom0 answered \"dom0 saw ping 1\"");
    // d2 says it on console_io: it broke its own console ring.
    outcome.expect_line("(d2) hostile: xenstored closed my connection (ring error 3)");
    let corrupt = "dom0: d2's console ring is corrupt";
    assert_eq!(
        outcome.serial.iter().filter(|line| line.contains(corrupt)).count(),
        1,
        "said once however often d2 signals"
    );
    let position = |text: &str| outcome.serial.iter().position(|line| line.contains(text)).unwrap();
    let broken = position("dom0: d2's xenstore ring is broken (a message longer than 4096 bytes)");
    let second = position("[d1] xenstore_client: round trip 2: dom0 answered \"dom0 saw ping 2\"");
    assert!(
        broken < second,
        "the second round trip came after the hostile domain was cut off"
    );
    outcome.expect_line("[d1] xenstore_client: all passed");
}

const XENSTORE_FLOOD: Bundle = Bundle::new(
    "xenstore_flood",
    &[
        Domain::new("dom0", "dom0_services", "memory=16M"),
        Domain::new("client", "xenstore_client", "memory=16M cmdline=role=client rounds=20"),
        Domain::new("flood", "xenstore_client", "memory=16M cmdline=role=flood"),
    ],
);

/// A domU keeps its xenstore request ring full of small reads of a 2 KiB
/// node and never reads a reply: dom0's xenstored stops taking its requests
/// once its queued replies reach the output quota (the ring stays full), and
/// dom0 reports the most it ever queued for it, within the quota. The other
/// domU's twenty round trips, during the flood, are all served.
#[test]
fn xenstore_holds_a_domu_that_never_reads_to_its_quota_and_serves_the_others() {
    let outcome = Boot::new("").with_domains(&XENSTORE_FLOOD).run();
    outcome.expect_verdict(DebugExit::Success);
    let position = |text: &str| outcome.serial.iter().position(|line| line.contains(text));
    let held = position("[d2] xenstore_client: flood: dom0 stopped taking my requests after")
        .expect("the flood was held back");
    let last = position("[d1] xenstore_client: round trip 20: dom0 answered \"dom0 saw ping 20\"")
        .expect("the twentieth round trip");
    assert!(held < last, "round trips were served while the flood was held back");
    outcome.expect_line("[d1] xenstore_client: all passed");
    outcome.expect_line("[d2] xenstore_client: flood: sent");
    let report = outcome
        .serial
        .iter()
        .find_map(|line| line.split("dom0: d2's xenstore output peaked at ").nth(1))
        .expect("dom0 reports the flood's queued output");
    let numbers: Vec<usize> = report
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect();
    let [peak, quota] = numbers[..] else {
        panic!("unexpected report {report:?}")
    };
    println!("the flood's queued output peaked at {peak} bytes (quota {quota})");
    println!("{}", outcome.serial[held]);
    println!("{}", outcome.expect_line("[d2] xenstore_client: flood: sent"));
    assert!(peak <= quota, "{peak} bytes queued, over the {quota}-byte quota");
    assert!(peak > quota / 2, "the flood reached the quota ({peak} of {quota})");
}

const XENBUS: Bundle = Bundle::new(
    "xenbus",
    &[
        Domain::new("dom0", "dom0_services", "memory=16M"),
        Domain::new("frontend", "xenstore_client", "memory=16M cmdline=role=xenbus"),
        Domain::new("liar", "xenstore_client", "memory=16M cmdline=role=xenbus-hostile"),
    ],
);

/// The split-driver model end to end on a demonstration device: dom0
/// creates the frontend and backend directories as a toolstack does; the
/// domU grants a page and offers an event channel through xenstore; both
/// walk the xenbus handshake to Connected (dom0 maps the page and reads the
/// domU's message) and back to Closed, dom0 unmapping before the domU takes
/// its grant back. Another domU's bogus ring-ref is refused and its device
/// closed, the first one unaffected.
#[test]
fn a_xenbus_device_connects_shares_a_page_and_closes() {
    let outcome = Boot::new("").with_domains(&XENBUS).run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("dom0: vdemo d1: connected; the shared page says \"hello from the vdemo frontend\"");
    outcome.expect_line("[d1] xenbus: connected to the backend");
    outcome.expect_line("dom0: vdemo d1: closed, the page unmapped");
    outcome.expect_line("[d1] xenbus: closed; the backend unmapped and the grant is revoked");
    // A second domU publishes a reference it never granted: refused.
    outcome.expect_line("dom0: vdemo d2: cannot map reference 9999: grant status -3 (bad grant reference)");
    outcome.expect_line("[d2] xenbus-hostile: the backend answered a bogus ring-ref with Some(Closing)");
}

/// What `cargo xtask run` boots: dom0's services and two domUs using them,
/// to a clean power-off.
#[test]
fn the_demo_that_cargo_xtask_run_boots_passes() {
    let outcome = Boot::new("").with_domains(&xtask::demo::DEMO).run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("[d1] hello from a domU on its PV console");
    outcome.expect_line("[d2] xenstore_client: another domain's node: refused (EACCES)");
    outcome.expect_line("[d2] xenstore_client: all passed");
    outcome.expect_line("dom0: no domU left; powering off");
}

const BASE_SWITCH_ATTACK: Bundle = Bundle::new(
    "base_switch_attack",
    &[
        Domain::new("dom0", "dom0_services", "memory=16M"),
        Domain::new("console", "console_client", "memory=16M"),
        Domain::new("attacker", "attacker", "memory=16M cmdline=role=base-switch"),
    ],
);

/// Issue 13, finding 1, from an unprivileged domU next to dom0's services
/// and a console client. In one `mmuext_op` batch the attacker unpins its
/// live L4, switches to a pinned copy and rewrites the old L4: first with a
/// forged tree mapping the batch's `*done` page onto a frame it does not
/// own, then by clearing it. Before the fix the hypervisor kept walking the
/// old L4 until the batch ended, so `*done` went to the foreign frame and
/// the cleared L4 took the hypervisor's own mappings away. Now both batches
/// complete, the count lands in the attacker's own page, the attacker runs
/// on its new base, and dom0 still serves both domUs' consoles.
#[test]
fn base_switch_attack() {
    let outcome = Boot::new("").with_domains(&BASE_SWITCH_ATTACK).run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("base_switch: my L4 is mfn ");
    for batch in ["forged tree", "clear"] {
        outcome.expect_line(&format!(
            "base_switch: {batch}: batch [unpin old, new base, rewrite old] completed; *done in my page = 3"
        ));
    }
    outcome.expect_line("base_switch: forged tree: the old L4 0x");
    outcome.expect_line("base_switch: clear: the old L4 0x");
    outcome.expect_line("base_switch: running on the new base: a fresh page reads 0x600d");
    // Printed through dom0's console backend: dom0 serves the attacker still.
    outcome.expect_line(
        "[d2] base_switch: verdict: the hypervisor stayed up; both batches completed with *done in my own page",
    );
    outcome.expect_line("[d1] console_client: done");
    // Its forged and cleared tables went back with the rest of its memory:
    // at most the two rings dom0 maps are held, as for the console client.
    expect_memory_back(&outcome, 2);
    outcome.expect_line("dom0: no domU left; powering off");
    assert!(!outcome.printed("crashed"), "{}", outcome.tail());
}
