//! `mmu_update` batches: validated edits, plain writes, M2P updates, the
//! done count, failure in the middle and preemption.

use super::*;
use crate::arch::GuestMemory;
use crate::arch::fake::{FakeGuestMemory, FakeM2p};
use crate::mm::batch_progress::{MMU_UPDATE_PREEMPTED, MmuBatch};
use crate::mm::mmu_update::{REQUESTS_PER_CALL, apply_mmu_updates};
use crate::mm::tlb_flush::TlbFlush;
use xen_abi::errno::Errno;
use xen_abi::mmu::{
    DOMID_IO, DOMID_SELF, MMU_MACHPHYS_UPDATE, MMU_NORMAL_PT_UPDATE, MMU_PT_UPDATE_PRESERVE_AD, MmuUpdate,
};
use zerocopy::IntoBytes;

/// Guest page holding the request list.
const LIST: u64 = 0x10_0000;
/// Guest page holding `*done`.
const DONE: u64 = 0x20_0000;

struct Batch {
    machine: Machine,
    guest: FakeGuestMemory,
    m2p: FakeM2p,
}

impl Batch {
    fn new() -> Self {
        let mut guest = FakeGuestMemory::default();
        for page in 0..4 {
            guest.map(LIST + page * 4096, true);
        }
        guest.map(DONE, true);
        Batch {
            machine: Machine::pinned_tree_flushed(),
            guest,
            m2p: FakeM2p::default(),
        }
    }

    fn run(&mut self, requests: &[MmuUpdate], foreigndom: u64) -> Result<MmuBatch, Errno> {
        self.guest.write(LIST, requests.as_bytes()).unwrap();
        self.run_args([LIST, requests.len() as u64, DONE, foreigndom, 0])
    }

    fn run_args(&mut self, args: [u64; 5]) -> Result<MmuBatch, Errno> {
        let Machine { table, memory } = &mut self.machine;
        apply_mmu_updates(table, memory, &mut self.guest, &mut self.m2p, DOM, args)
    }

    fn done(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.guest.read(DONE, &mut bytes).unwrap();
        u32::from_le_bytes(bytes)
    }
}

/// A request editing entry `index` of `table`.
fn edit(table: Mfn, index: u64, value: u64) -> MmuUpdate {
    MmuUpdate {
        ptr: table.address() + index * 8 + MMU_NORMAL_PT_UPDATE,
        val: value,
    }
}

#[test]
fn a_batch_of_valid_edits_is_applied_and_counted() {
    let mut b = Batch::new();
    let requests = [
        edit(L1, 20, entry(SPARE, PRESENT | RW)),
        edit(L1, 21, entry(SPARE, PRESENT)),
    ];
    assert_eq!(b.run(&requests, u64::from(DOMID_SELF)), Ok(MmuBatch::Done));
    assert_eq!(b.done(), 2);
    assert_ne!(b.machine.read(L1, 20) & PRESENT, 0);
    b.machine.check();
}

#[test]
fn only_edits_above_l1_make_the_hypervisor_flush() {
    let mut b = Batch::new();
    let l1_edit = [edit(L1, 20, entry(SPARE, PRESENT | RW))];
    b.guest.write(LIST, l1_edit.as_bytes()).unwrap();
    let args = [LIST, 1, DONE, u64::from(DOMID_SELF), 0];
    assert_eq!(b.run_args(args), Ok(MmuBatch::Done));
    assert!(b.guest.flushes.is_empty());
    // Unmapping L1 from the L2 drops the mappings of 512 pages at once, and
    // the flush comes before *done is written.
    let l2_edit = [edit(L2, 0, 0)];
    b.guest.write(LIST, l2_edit.as_bytes()).unwrap();
    assert_eq!(b.run_args(args), Ok(MmuBatch::Done));
    assert_eq!(b.guest.flushes, [TlbFlush::All]);
    b.machine.check();
}

#[test]
fn the_batch_stops_at_the_first_refused_request_and_says_how_many_went_through() {
    let mut b = Batch::new();
    let requests = [
        edit(L1, 20, entry(SPARE, PRESENT | RW)),
        edit(L1, 21, entry(L2, PRESENT | RW)), // a page table, writable: refused
        edit(L1, 22, entry(SPARE, PRESENT)),
    ];
    assert!(b.run(&requests, u64::from(DOMID_SELF)).is_err());
    assert_eq!(b.done(), 1);
    assert_ne!(b.machine.read(L1, 20) & PRESENT, 0, "the first went through");
    assert_eq!(b.machine.read(L1, 21), 0, "the refused one changed nothing");
    assert_eq!(b.machine.read(L1, 22), 0, "nothing after it ran");
    b.machine.check();
}

#[test]
fn frames_that_are_not_tables_are_written_plainly_but_never_live_tables() {
    let mut b = Batch::new();
    // SPARE is no page table: a guest may fill it before making it one.
    let plain = [edit(SPARE, 3, 0x1234)];
    assert_eq!(b.run(&plain, u64::from(DOMID_SELF)), Ok(MmuBatch::Done));
    assert_eq!(b.machine.read(SPARE, 3), 0x1234);
    assert_eq!(
        b.machine.info(SPARE).type_count(),
        0,
        "the writable reference was dropped"
    );
    // The same write to the live L1 goes through validation, and is refused.
    let before = b.machine.read(L1, 3);
    assert!(
        b.run(&[edit(L1, 3, 0x1234 | PRESENT | (1 << 7))], u64::from(DOMID_SELF))
            .is_err()
    );
    assert_eq!(b.machine.read(L1, 3), before);
    b.machine.check();
}

#[test]
fn preserve_ad_keeps_the_accessed_and_dirty_bits() {
    let mut b = Batch::new();
    let index = 0;
    let old = b.machine.read(L1, index);
    b.machine.write(L1, index, old | ACCESSED | (1 << 6));
    let request = MmuUpdate {
        ptr: L1.address() + index as u64 * 8 + MMU_PT_UPDATE_PRESERVE_AD,
        val: entry(DATA[0], PRESENT),
    };
    assert_eq!(b.run(&[request], u64::from(DOMID_SELF)), Ok(MmuBatch::Done));
    assert_eq!(b.machine.read(L1, index) & (ACCESSED | (1 << 6)), ACCESSED | (1 << 6));
    assert_eq!(b.machine.read(L1, index) & RW, 0, "the new value took effect");
    b.machine.check();
}

#[test]
fn misaligned_entries_foreign_owners_and_bad_lists_are_refused() {
    let mut b = Batch::new();
    let straddling = MmuUpdate {
        ptr: L1.address() + 4,
        val: 0,
    };
    assert_eq!(
        b.run(&[straddling], u64::from(DOMID_SELF)),
        Err(Errno::ENOSYS),
        "bits 0-2 are the command, and 4 is none"
    );
    assert_eq!(b.run(&[edit(L1, 20, 0)], u64::from(OTHER)), Err(Errno::ESRCH));
    assert_eq!(b.run(&[edit(L1, 20, 0)], u64::from(DOMID_IO)), Err(Errno::EPERM));
    assert_eq!(
        b.run(&[edit(L1, 20, 0)], 1 << 16),
        Err(Errno::ESRCH),
        "foreign page tables"
    );
    assert_eq!(
        b.run_args([0xdead_0000, 1, DONE, u64::from(DOMID_SELF), 0]),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        b.run_args([LIST, 1, 0xFFFF_8000_0000_0000, u64::from(DOMID_SELF), 0]),
        Err(Errno::EFAULT)
    );
    b.machine.check();
}

#[test]
fn m2p_updates_are_for_the_callers_own_frames() {
    let mut b = Batch::new();
    let own = MmuUpdate {
        ptr: SPARE.address() + MMU_MACHPHYS_UPDATE,
        val: 77,
    };
    assert_eq!(b.run(&[own], u64::from(DOMID_SELF)), Ok(MmuBatch::Done));
    assert_eq!(b.m2p.entries.get(&SPARE.0), Some(&77));
    let foreign = MmuUpdate {
        ptr: FOREIGN.address() + MMU_MACHPHYS_UPDATE,
        val: 78,
    };
    assert!(b.run(&[foreign], u64::from(DOMID_SELF)).is_err());
    assert_eq!(b.m2p.entries.get(&FOREIGN.0), None);
}

#[test]
fn a_long_batch_preempts_itself_and_resumes_with_the_count_so_far() {
    let mut b = Batch::new();
    // Plain writes to SPARE's 512 entries, more than one call handles.
    let requests: Vec<MmuUpdate> = (0..200).map(|i| edit(SPARE, i % 512, i)).collect();
    let first = b.run(&requests, u64::from(DOMID_SELF)).unwrap();
    let MmuBatch::Continue(args) = first else {
        panic!("{first:?}")
    };
    assert_eq!(args[0], LIST + REQUESTS_PER_CALL * 16);
    assert_eq!(args[1], (200 - REQUESTS_PER_CALL) | MMU_UPDATE_PREEMPTED);
    assert_eq!(b.done(), REQUESTS_PER_CALL as u32);
    assert_eq!(b.run_args(args), Ok(MmuBatch::Done));
    assert_eq!(b.done(), 200, "the resumed call adds to the count so far");
    assert_eq!(b.machine.read(SPARE, 199), 199);
    b.machine.check();
}
