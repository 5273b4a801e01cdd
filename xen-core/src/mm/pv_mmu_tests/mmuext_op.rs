//! `mmuext_op` batches: pins, base pointers, flushes, page operations, and
//! the refusals.

use super::*;
use crate::arch::GuestMemory;
use crate::arch::fake::FakeGuestMemory;
use crate::mm::TypedRef;
use crate::mm::base_pointer::BasePointers;
use crate::mm::batch_progress::MmuBatch;
use crate::mm::mmuext_op::{OPS_PER_CALL, apply_mmuext_ops};
use crate::mm::tlb_flush::TlbFlush;
use xen_abi::errno::Errno;
use xen_abi::mmu::*;
use zerocopy::IntoBytes;

const OPS: u64 = 0x10_0000;
const DONE: u64 = 0x20_0000;

struct Ext {
    machine: Machine,
    guest: FakeGuestMemory,
    base: Option<TypedRef>,
    user_base: Option<TypedRef>,
}

impl Ext {
    fn new(machine: Machine) -> Self {
        let mut guest = FakeGuestMemory::default();
        guest.map(OPS, true);
        guest.map(DONE, true);
        Ext {
            machine,
            guest,
            base: None,
            user_base: None,
        }
    }

    fn run(&mut self, ops: &[MmuextOp]) -> Result<MmuBatch, Errno> {
        self.guest.write(OPS, ops.as_bytes()).unwrap();
        let Machine { table, memory } = &mut self.machine;
        apply_mmuext_ops(
            table,
            memory,
            &mut self.guest,
            DOM,
            BasePointers {
                kernel: &mut self.base,
                user: &mut self.user_base,
                ldt: &mut crate::mm::guest_ldt::GuestLdt::default(),
            },
            [OPS, ops.len() as u64, DONE, u64::from(DOMID_SELF), 0],
        )
    }

    /// Releases the base pointer, as the vCPU's teardown would.
    fn release_base(&mut self) {
        for base in [self.base.take(), self.user_base.take()].into_iter().flatten() {
            let Machine { table, memory } = &mut self.machine;
            table.put_page_and_type(memory, base);
        }
    }
}

fn op(cmd: u32, arg1: u64, arg2: u64) -> MmuextOp {
    MmuextOp {
        cmd,
        _pad0: 0,
        arg1,
        arg2,
    }
}

#[test]
fn pinning_and_unpinning_a_tree_through_the_batch() {
    let mut machine = Machine::new();
    machine.standard_tree();
    let mut e = Ext::new(machine);
    assert_eq!(e.run(&[op(MMUEXT_PIN_L4_TABLE, L4.0, 0)]), Ok(MmuBatch::Done));
    assert!(e.machine.info(L4).is_pinned());
    e.machine.check();
    assert_eq!(e.run(&[op(MMUEXT_UNPIN_TABLE, L4.0, 0)]), Ok(MmuBatch::Done));
    assert!(!e.machine.info(L4).is_pinned());
    e.machine.check();
}

#[test]
fn a_new_base_pointer_must_be_an_l4_and_is_loaded_at_once() {
    let mut e = Ext::new(Machine::pinned_tree_flushed());
    let result = e.run(&[op(MMUEXT_NEW_BASEPTR, DATA[0].0, 0)]);
    assert_eq!(result, Err(Errno::EINVAL), "a data frame is no L4");
    assert!(e.base.is_none());
    assert!(e.guest.bases.is_empty());
    assert_eq!(e.run(&[op(MMUEXT_NEW_BASEPTR, L4.0, 0)]), Ok(MmuBatch::Done));
    assert_eq!(e.guest.bases, [L4]);
    assert_eq!(e.base.as_ref().map(TypedRef::mfn), Some(L4));
    assert_eq!(e.run(&[op(MMUEXT_NEW_BASEPTR, L4.0, 0)]), Ok(MmuBatch::Done));
    assert_eq!(e.guest.bases, [L4], "the same base again loads nothing");
    e.machine.check();
    e.release_base();
}

#[test]
fn a_user_base_is_a_referenced_l4_loaded_by_nothing_and_dropped_by_frame_0() {
    let mut e = Ext::new(Machine::pinned_tree_flushed());
    let before = e.machine.info(L4);
    let result = e.run(&[op(MMUEXT_NEW_USER_BASEPTR, DATA[0].0, 0)]);
    assert_eq!(result, Err(Errno::EINVAL), "a data frame is no L4");
    let result = e.run(&[op(MMUEXT_NEW_USER_BASEPTR, FOREIGN.0, 0)]);
    assert_eq!(result, Err(Errno::EINVAL), "nor is another domain's frame ours");
    assert!(e.user_base.is_none());
    assert_eq!(e.run(&[op(MMUEXT_NEW_USER_BASEPTR, L4.0, 0)]), Ok(MmuBatch::Done));
    assert_eq!(e.user_base.as_ref().map(TypedRef::mfn), Some(L4));
    assert!(e.guest.bases.is_empty(), "the CPU stays on the kernel base");
    let held = e.machine.info(L4);
    assert_eq!(held.type_count(), before.type_count() + 1, "typed as an L4");
    assert_eq!(held.count(), before.count() + 1);
    e.machine.check();
    assert_eq!(e.run(&[op(MMUEXT_NEW_USER_BASEPTR, 0, 0)]), Ok(MmuBatch::Done));
    assert!(e.user_base.is_none());
    let after = e.machine.info(L4);
    assert_eq!(
        (after.count(), after.type_count()),
        (before.count(), before.type_count()),
        "frame 0: the old base's references are back"
    );
    e.machine.check();
}

#[test]
fn effects_of_requests_before_a_failure_stand() {
    let mut e = Ext::new(Machine::pinned_tree_flushed());
    let result = e.run(&[op(MMUEXT_NEW_BASEPTR, L4.0, 0), op(MMUEXT_PIN_L1_TABLE, FOREIGN.0, 0)]);
    assert!(result.is_err());
    assert_eq!(e.guest.bases, [L4], "the base did change: CR3 followed");
    let mut done = [0u8; 4];
    e.guest.read(DONE, &mut done).unwrap();
    assert_eq!(u32::from_le_bytes(done), 1);
    e.release_base();
}

#[test]
fn each_flush_is_done_at_once_and_invlpg_needs_a_canonical_address() {
    let mut e = Ext::new(Machine::pinned_tree_flushed());
    let page = 0xffff_ffff_8000_1000;
    let result = e.run(&[op(MMUEXT_INVLPG_LOCAL, page, 0), op(MMUEXT_INVLPG_ALL, page + 4096, 0)]);
    assert_eq!(result, Ok(MmuBatch::Done));
    assert_eq!(e.guest.flushes, [TlbFlush::Page(page), TlbFlush::Page(page + 4096)]);
    let result = e.run(&[op(MMUEXT_INVLPG_LOCAL, 0x8000_0000_0000_0000, 0)]);
    assert_eq!(
        result,
        Err(Errno::EINVAL),
        "invlpg of a non-canonical address faults in ring 0"
    );
    let result = e.run(&[op(MMUEXT_TLB_FLUSH_MULTI, 0, 0xdead_0000)]);
    assert_eq!(result, Err(Errno::EFAULT), "the vCPU mask must be readable");
    assert_eq!(e.guest.flushes.len(), 2, "refused flushes flush nothing");
}

#[test]
fn page_operations_never_write_a_page_table_or_read_a_foreign_frame() {
    let mut e = Ext::new(Machine::pinned_tree_flushed());
    e.machine.write(SPARE, 5, 99);
    e.machine.refused(Errno::EINVAL, |m| {
        let Machine { table, memory } = m;
        let mut guest = FakeGuestMemory::default();
        guest.map(OPS, true);
        guest.write(OPS, op(MMUEXT_CLEAR_PAGE, L1.0, 0).as_bytes()).unwrap();
        apply_mmuext_ops(
            table,
            memory,
            &mut guest,
            DOM,
            BasePointers {
                kernel: &mut None,
                user: &mut None,
                ldt: &mut crate::mm::guest_ldt::GuestLdt::default(),
            },
            [OPS, 1, 0, u64::from(DOMID_SELF), 0],
        )
    });
    assert!(
        e.run(&[op(MMUEXT_COPY_PAGE, L2.0, SPARE.0)]).is_err(),
        "into a page table"
    );
    assert!(
        e.run(&[op(MMUEXT_COPY_PAGE, SPARE.0, FOREIGN.0)]).is_err(),
        "from another domain"
    );
    assert_eq!(e.run(&[op(MMUEXT_COPY_PAGE, DATA[1].0, SPARE.0)]), Ok(MmuBatch::Done));
    assert_eq!(e.machine.read(DATA[1], 5), 99);
    assert_eq!(e.run(&[op(MMUEXT_CLEAR_PAGE, SPARE.0, 0)]), Ok(MmuBatch::Done));
    assert_eq!(e.machine.read(SPARE, 5), 0);
    e.machine.check();
}

#[test]
fn superpages_cache_flushes_and_unknown_commands_are_refused_without_a_trace() {
    let mut e = Ext::new(Machine::pinned_tree_flushed());
    let before = e.machine.snapshot();
    // XSA-167: a huge, superpage-aligned MFN must not index anything.
    assert_eq!(e.run(&[op(MMUEXT_MARK_SUPER, 1 << 50, 0)]), Err(Errno::EOPNOTSUPP));
    assert_eq!(e.run(&[op(MMUEXT_UNMARK_SUPER, 512, 0)]), Err(Errno::EOPNOTSUPP));
    assert_eq!(e.run(&[op(MMUEXT_FLUSH_CACHE, 0, 0)]), Err(Errno::EPERM));
    assert_eq!(e.run(&[op(99, 0, 0)]), Err(Errno::ENOSYS));
    assert_eq!(
        e.run(&[op(MMUEXT_PIN_L1_TABLE, u64::MAX, 0)]),
        Err(Errno::EINVAL),
        "out of range"
    );
    assert_eq!(e.machine.snapshot(), before);
}

#[test]
fn a_long_batch_preempts_itself() {
    let mut e = Ext::new(Machine::pinned_tree_flushed());
    let ops = [op(MMUEXT_TLB_FLUSH_LOCAL, 0, 0); 20];
    match e.run(&ops) {
        Ok(MmuBatch::Continue([next, left, ..])) => {
            assert_eq!(next, OPS + OPS_PER_CALL * 24);
            assert_eq!(left & 0xffff, 20 - OPS_PER_CALL);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.guest.flushes,
        [TlbFlush::All; OPS_PER_CALL as usize],
        "what ran before preemption flushed"
    );
}
