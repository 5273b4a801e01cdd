//! PV MMU scenarios: a guest builds and switches address spaces with the
//! SDK's page-table manager, and a hostile guest performs each known attack.

use tests::Boot;
use xen_core::debug_exit::DebugExit;

#[test]
fn a_guest_builds_a_new_address_space_switches_to_it_and_touches_memory_through_it() {
    let outcome = Boot::new("").with_guest("address_space").run();
    outcome.expect_verdict(DebugExit::Success);
    outcome.expect_line("new L4 sharing the kernel's slots, pinned: 3 hypercalls");
    // Three tables, each zeroed, remapped read-only and linked (2 calls), then
    // one mmu_update for all sixteen leaves.
    outcome.expect_line("mapped 16 pages at 0x200000000000 (3 new tables): 7 hypercalls");
    outcome.expect_line("check new address space: wrote 16 pages through it, 16 read back through the kernel mapping");
    outcome.expect_line("check old address space: back on the boot tables, which does not map 0x200000000000");
    outcome.expect_line("check teardown: 16 pages unmapped, the L4 unpinned");
    outcome.expect_line("address space done");
}

/// Each attack with the errno xen-core refuses it with.
const ATTACKS: [(&str, &str); 23] = [
    ("writable mapping of a page table", "EBUSY (-16)"),
    ("writable mapping of a page table by mmu_update", "EBUSY (-16)"),
    ("pin a writable-mapped frame as an L1", "EINVAL (-22)"),
    ("pin the kernel's L3 as an L2 (type confusion)", "EINVAL (-22)"),
    ("L2 entry pointing at the L4 (type confusion)", "EINVAL (-22)"),
    ("linear page table: L4 entry pointing at itself", "EINVAL (-22)"),
    ("write to a hypervisor L4 slot", "EINVAL (-22)"),
    ("map a frame we do not own", "EBUSY (-16)"),
    ("map a frame beyond memory", "EPERM (-1)"),
    ("M2P update of a frame we do not own", "EINVAL (-22)"),
    ("unpin a table that is not pinned", "EINVAL (-22)"),
    ("new base pointer on a data frame", "EINVAL (-22)"),
    ("clear a page table", "EINVAL (-22)"),
    ("misaligned entry pointer", "ENOSYS (-38)"),
    ("non-canonical address", "EINVAL (-22)"),
    ("request list in hypervisor memory", "EFAULT (-14)"),
    ("call gate into the hypervisor's code", "EINVAL (-22)"),
    ("a TSS descriptor in the GDT", "EINVAL (-22)"),
    ("a GDT frame mapped writable", "EBUSY (-16)"),
    ("a page table offered as a GDT", "EINVAL (-22)"),
    ("an LDT at a hypervisor address", "EINVAL (-22)"),
    ("a breakpoint on the hypervisor", "EPERM (-1)"),
    (
        "a direct PTE write to a frame beyond memory",
        "a page fault, error code 0x3",
    ),
];

#[test]
fn every_attack_is_refused_with_xens_errno_and_the_guest_finishes_its_list() {
    let outcome = Boot::new("").with_guest("attacker").run();
    outcome.expect_verdict(DebugExit::Success);
    for (attack, errno) in ATTACKS {
        outcome.expect_line(&format!("attack {attack}: refused with {errno}"));
    }
    assert!(!outcome.printed("ALLOWED"), "{}", outcome.tail());
    outcome.expect_line("after the attacks: a legitimate remap still works");
    outcome.expect_line("data frame reads 0x600d");
    outcome.expect_line("attacks done: 23 refused, 0 allowed");
    outcome.expect_line("domain 0 (dom0) powered off");
}
