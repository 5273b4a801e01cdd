//! Page-table work in bounded steps (Xen's preemptible validation, XSA-45's
//! class): a tree of 512 L1s is validated, released and torn down across
//! many invocations, none reading more than its budget, while the guest
//! tries to change what is in flight.

use crate::arch::GuestMemory;
use crate::arch::PhysicalMemory;
use crate::arch::fake::{FakeGuestMemory, FakeMemory};
use crate::mm::base_pointer::BasePointers;
use crate::mm::batch_progress::MmuBatch;
use crate::mm::budget::{Budget, ENTRIES_PER_INVOCATION};
use crate::mm::mmuext_op::apply_mmuext_ops;
use crate::mm::pte_rules::{PRESENT, RW, entry_address};
use crate::mm::{FrameInfo, FrameTable, Mfn, PageType, TypedRef};
use xen_abi::errno::Errno;
use xen_abi::mmu::*;
use zerocopy::{FromZeros, IntoBytes};

const DOM: u16 = 1;
const OTHER: u16 = 2;
const L4: Mfn = Mfn(1);
const L3: Mfn = Mfn(2);
const L2: Mfn = Mfn(3);
/// The 512 L1s: frames 4..516.
const FIRST_L1: u64 = 4;
const DATA: Mfn = Mfn(600);
const FOREIGN: Mfn = Mfn(700);
const FRAMES: u64 = 800;
/// Hypervisor reads one invocation may make: its entries and a little
/// for the requests around them.
const READS_PER_INVOCATION: u64 = ENTRIES_PER_INVOCATION + 64;
const OPS: u64 = 0x10_0000;
const DONE: u64 = 0x20_0000;

/// A domain with an L4 → L3 → L2 → 512 L1s, every L1 entry mapping one
/// data frame read-only: 262,144 mappings, 515 tables.
struct Big {
    table: FrameTable<'static>,
    memory: FakeMemory,
    guest: FakeGuestMemory,
    base: Option<TypedRef>,
}

fn l1(index: u64) -> Mfn {
    Mfn(FIRST_L1 + index)
}

fn big() -> Big {
    let storage = std::vec![FrameInfo::FREE; FRAMES as usize].leak();
    let mut table = FrameTable::new(storage, [0; crate::mm::pte_rules::HYPERVISOR_L4_SLOTS]);
    let mut memory = FakeMemory::default();
    for mfn in 1..FRAMES {
        memory.zero_frame(Mfn(mfn));
        let owner = if mfn < FOREIGN.0 { DOM } else { OTHER };
        table.assign(Mfn(mfn), owner).unwrap();
    }
    let mut write = |table: Mfn, index: usize, value: u64| memory.write_u64(entry_address(table, index), value);
    write(L4, 0, L3.address() | PRESENT | RW);
    write(L3, 0, L2.address() | PRESENT | RW);
    for index in 0..512 {
        write(L2, index as usize, l1(index).address() | PRESENT | RW);
        for entry in 0..512 {
            write(l1(index), entry, DATA.address() | PRESENT);
        }
    }
    let mut guest = FakeGuestMemory::default();
    guest.map(OPS, true);
    guest.map(DONE, true);
    let _ = memory.take_reads();
    Big {
        table,
        memory,
        guest,
        base: None,
    }
}

fn op(cmd: u32, mfn: Mfn) -> MmuextOp {
    MmuextOp {
        cmd,
        arg1: mfn.0,
        ..MmuextOp::new_zeroed()
    }
}

impl Big {
    /// One invocation of `mmuext_op` with `args`; its result and reads.
    fn invoke(&mut self, args: [u64; 5]) -> (Result<MmuBatch, Errno>, u64) {
        let result = apply_mmuext_ops(
            &mut self.table,
            &mut self.memory,
            &mut self.guest,
            DOM,
            BasePointers {
                kernel: &mut self.base,
                user: &mut None,
                ldt: &mut crate::mm::guest_ldt::GuestLdt::default(),
            },
            args,
        );
        (result, self.memory.take_reads())
    }

    /// Runs a batch to its end as the kernel does (re-running each
    /// continuation), checking every invocation's reads and the invariants
    /// between invocations; its result and how many invocations it took.
    fn run(&mut self, ops: &[MmuextOp]) -> (Result<(), Errno>, u64) {
        self.guest.write(OPS, ops.as_bytes()).unwrap();
        self.resume([OPS, ops.len() as u64, DONE, u64::from(DOMID_SELF), 0])
    }

    /// [`Big::run`] from the arguments of a call (a continuation's).
    fn resume(&mut self, mut args: [u64; 5]) -> (Result<(), Errno>, u64) {
        let mut invocations = 0;
        loop {
            let (result, reads) = self.invoke(args);
            invocations += 1;
            assert!(
                reads <= READS_PER_INVOCATION,
                "invocation {invocations} read {reads} words"
            );
            // The recount reads the whole tree: every so often.
            if invocations % 64 == 1 {
                self.check();
            }
            match result {
                Ok(MmuBatch::Continue(next)) => args = next,
                Ok(MmuBatch::Done) => return (Ok(()), invocations),
                Err(error) => return (Err(error), invocations),
            }
        }
    }

    /// The invariants, whose own reads are not the hypercalls'.
    fn check(&self) {
        self.table.check_invariants(&self.memory).unwrap();
        let _ = self.memory.take_reads();
    }

    fn info(&self, mfn: Mfn) -> FrameInfo {
        *self.table.frame(mfn).unwrap()
    }

    fn all_untyped(&self) -> bool {
        (1..FRAMES).all(|mfn| self.info(Mfn(mfn)).page_type() == PageType::None)
    }
}

#[test]
fn sixteen_pins_and_unpins_of_a_512_l1_tree_run_in_bounded_invocations() {
    let mut b = big();
    let ops: std::vec::Vec<MmuextOp> = (0..8)
        .flat_map(|_| [op(MMUEXT_PIN_L4_TABLE, L4), op(MMUEXT_UNPIN_TABLE, L4)])
        .collect();
    let (result, invocations) = b.run(&ops);
    assert_eq!(result, Ok(()));
    // Each pin and each unpin looks at 515 tables of 512 entries; the last
    // unpin's release may be left for the next request.
    let entries = 15 * 515 * 512;
    assert!(
        invocations >= entries / ENTRIES_PER_INVOCATION,
        "{invocations} invocations"
    );
    let mut budget = Budget::per_invocation();
    while b.table.settle(&mut b.memory, DOM, &mut budget) == Err(Errno::ERESTART) {
        assert!(b.memory.take_reads() <= READS_PER_INVOCATION);
        budget = Budget::per_invocation();
    }
    assert!(b.all_untyped());
    assert!(!b.table.has_jobs());
    b.check();
}

#[test]
fn a_pin_preempted_half_way_keeps_its_tables_out_of_reach_and_goes_on() {
    let mut b = big();
    b.guest.write(OPS, op(MMUEXT_PIN_L4_TABLE, L4).as_bytes()).unwrap();
    let args = [OPS, 1, DONE, u64::from(DOMID_SELF), 0];
    let (first, _) = b.invoke(args);
    let Ok(MmuBatch::Continue(again)) = first else {
        panic!("a 515-table pin is not done in one invocation: {first:?}");
    };
    b.check();
    // The tables under way cannot be edited, typed otherwise or mapped
    // writable, and the frame cannot be used as a base yet.
    assert_eq!(b.info(L2).page_type(), PageType::L2);
    assert!(!b.info(L2).is_validated());
    assert_eq!(b.table.mod_entry(&mut b.memory, L2, 0, 0, DOM, DOM), Err(Errno::EINVAL));
    assert_eq!(
        b.table
            .get_page_and_type(&mut b.memory, L2, DOM, PageType::Writable)
            .map(|_| ()),
        Err(Errno::EINVAL)
    );
    // Re-running goes on where it stood, until the pin is done.
    let (result, invocations) = b.resume(again);
    assert_eq!(result, Ok(()));
    assert!(invocations > 1);
    assert!(b.info(L4).is_pinned() && b.info(L4).is_validated());
    assert_eq!(b.info(DATA).count(), 1 + 512 * 512);
    b.check();
}

#[test]
fn a_new_validation_gives_up_the_one_left_pending() {
    let mut b = big();
    b.guest.write(OPS, op(MMUEXT_PIN_L4_TABLE, L4).as_bytes()).unwrap();
    let (first, _) = b.invoke([OPS, 1, DONE, u64::from(DOMID_SELF), 0]);
    assert!(matches!(first, Ok(MmuBatch::Continue(_))), "{first:?}");
    // The guest never comes back to it (its *done write failed, say) and
    // validates something else: the first is undone, so no domain keeps
    // more than one validation, however often it starts one.
    assert_eq!(b.run(&[op(MMUEXT_PIN_L1_TABLE, l1(3))]).0, Ok(()));
    assert_eq!(b.info(L4).page_type(), PageType::None);
    assert_eq!(b.info(L2).page_type(), PageType::None);
    assert!(b.info(l1(3)).is_pinned());
    assert!(!b.table.has_jobs());
    b.check();
}

#[test]
fn an_l1_changed_before_the_validation_reaches_it_is_checked_as_it_is_then() {
    let mut b = big();
    b.guest.write(OPS, op(MMUEXT_PIN_L4_TABLE, L4).as_bytes()).unwrap();
    let (first, _) = b.invoke([OPS, 1, DONE, u64::from(DOMID_SELF), 0]);
    let Ok(MmuBatch::Continue(args)) = first else {
        panic!("{first:?}");
    };
    // The last L1 is not reached yet: it is still the guest's to write
    // (through a writable mapping, say), and it now maps a foreign frame.
    assert_eq!(b.info(l1(511)).page_type(), PageType::None);
    b.memory
        .write_u64(entry_address(l1(511), 7), FOREIGN.address() | PRESENT);
    let (result, _) = b.resume(args);
    assert_eq!(result, Err(Errno::EBUSY), "the foreign mapping is refused when reached");
    // Everything the validation took is released, a bounded part at a
    // time, before the domain's next page-table request.
    let mut budget = Budget::per_invocation();
    while b.table.settle(&mut b.memory, DOM, &mut budget) == Err(Errno::ERESTART) {
        budget = Budget::per_invocation();
        b.check();
    }
    assert!(b.all_untyped());
    assert_eq!(b.info(DATA).count(), 1);
    b.check();
}

#[test]
fn another_request_for_the_same_type_takes_over_a_preempted_validation() {
    let mut b = big();
    b.guest.write(OPS, op(MMUEXT_PIN_L4_TABLE, L4).as_bytes()).unwrap();
    let (first, _) = b.invoke([OPS, 1, DONE, u64::from(DOMID_SELF), 0]);
    assert!(matches!(first, Ok(MmuBatch::Continue(_))));
    // The guest switches to the tree instead of re-running the pin.
    let (result, invocations) = b.run(&[op(MMUEXT_NEW_BASEPTR, L4)]);
    assert_eq!(result, Ok(()));
    assert!(invocations > 1);
    assert_eq!(b.base.as_ref().map(TypedRef::mfn), Some(L4));
    assert!(!b.info(L4).is_pinned());
    assert_eq!(b.info(L4).type_count(), 1);
    assert!(!b.table.has_jobs());
    let base = b.base.take().unwrap();
    b.table.put_page_and_type(&mut b.memory, base);
}

#[test]
fn a_domains_teardown_is_bounded_per_pass() {
    let mut b = big();
    assert_eq!(b.run(&[op(MMUEXT_PIN_L4_TABLE, L4)]).0, Ok(()));
    let mut freed = 0;
    b.table.begin_relinquish(&mut b.memory, DOM, &mut |_| freed += 1);
    let mut passes = 0;
    let teardown = loop {
        let mut budget = Budget::per_invocation();
        let done = b
            .table
            .relinquish_steps(&mut b.memory, &mut budget, &mut |_| freed += 1);
        passes += 1;
        assert!(b.memory.take_reads() <= READS_PER_INVOCATION);
        b.check();
        if let Some(&(owner, teardown)) = done.first() {
            assert_eq!(owner, DOM);
            break teardown;
        }
    };
    assert!(passes > 100, "{passes} passes");
    assert_eq!(teardown.freed, FOREIGN.0 - 1);
    assert_eq!(freed, teardown.freed);
    assert!((1..FOREIGN.0).all(|mfn| b.info(Mfn(mfn)).is_free()));
    assert!(!b.table.has_jobs());
}
