//! The PV MMU hypercalls against a fake CPU that walks the guest's tables
//! (`arch::fake_mmu`): attacks that only work because the CPU still uses a
//! table, or a cached translation, that the frame table has let go of.

use super::test_domains::{build_domain, l1_entry_address};
use super::tests::Setup;
use super::*;
use crate::arch::PhysicalMemory;
use crate::arch::fake::FakePlatform;
use crate::arch::fake_mmu::Caching;
use crate::domain::boot_layout::BootLayout;
use crate::mm::batch_progress::MMU_UPDATE_PREEMPTED;
use crate::mm::pte_rules::{HYPERVISOR_L4_SLOTS, PRESENT, RW, USER, entry_address, entry_mfn};
use crate::mm::{FrameInfo, Mfn, PageType};
use xen_abi::errno::Errno;
use xen_abi::hypercall as nr;
use xen_abi::mmu::DomId;
use xen_abi::mmu::{
    DOMID_SELF, MMU_NORMAL_PT_UPDATE, MMUEXT_CLEAR_PAGE, MMUEXT_COPY_PAGE, MMUEXT_NEW_BASEPTR, MMUEXT_NEW_USER_BASEPTR,
    MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L4_TABLE, MMUEXT_UNPIN_TABLE, MmuUpdate, MmuextOp,
};
use zerocopy::{FromZeros, IntoBytes};

/// The domain under test.
const DOMID: DomId = 1;
/// Frames the builder may take, from 0x100 on.
const BUILD_FRAMES: u64 = 2048;
/// Frames given to the domain after building, for the attacks' tables.
const SPARES: u64 = 8;
/// A frame nobody owns, standing for anything the guest must not reach.
const VICTIM: Mfn = Mfn(0x40);
/// What the victim holds.
const VICTIM_WORD: u64 = 0x5157_0000_dead_beef;

/// A built domain whose hypercalls' guest accesses go through its own
/// tables, with CR3 holding its L4.
struct Walked {
    s: Setup,
    layout: BootLayout,
    l4: Mfn,
    spares: [Mfn; SPARES as usize],
}

fn walked(caching: Caching) -> Walked {
    let mut platform = FakePlatform::default();
    let first_spare = 0x100 + BUILD_FRAMES;
    let storage = std::vec![FrameInfo::FREE; (first_spare + SPARES) as usize].leak();
    let mut frames = FrameTable::new(storage, [0; HYPERVISOR_L4_SLOTS]);
    let built = build_domain(&mut platform, &mut frames, DOMID, 1024, 0x100, BUILD_FRAMES);
    let spares = core::array::from_fn(|index| Mfn(first_spare + index as u64));
    for spare in spares {
        frames.assign(spare, DOMID).unwrap();
        platform.memory.zero_frame(spare);
    }
    platform.memory.write_u64(VICTIM.address(), VICTIM_WORD);
    platform.guest.walk_tables(&platform.memory, built.l4, caching);
    Walked {
        s: Setup {
            domain: built.domain,
            frames,
            frame: built.frame,
            platform,
        },
        layout: built.layout,
        l4: built.l4,
        spares,
    }
}

impl Walked {
    /// The request list: the boot stack page, mapped writable.
    fn list(&self) -> u64 {
        self.layout.stack
    }

    /// `*done`, at the end of the same page.
    fn done(&self) -> u64 {
        self.layout.stack + 4096 - 8
    }

    fn ops(&mut self, ops: &[MmuextOp]) -> Completion {
        let (list, done) = (self.list(), self.done());
        self.s.put(list, ops.as_bytes());
        self.s
            .call(nr::MMUEXT_OP, [list, ops.len() as u64, done, u64::from(DOMID_SELF), 0])
    }

    fn done_count(&mut self) -> u32 {
        let done = self.done();
        u32::from_le_bytes(self.s.get(done, 4).try_into().unwrap())
    }

    /// A second L4, a copy of the first, pinned: somewhere to switch to.
    fn pinned_copy_of_l4(&mut self) -> Mfn {
        let copy = self.spares[0];
        assert_eq!(
            self.ops(&[
                op(MMUEXT_COPY_PAGE, copy.0, self.l4.0),
                op(MMUEXT_PIN_L4_TABLE, copy.0, 0)
            ]),
            Completion::Value(0)
        );
        copy
    }

    /// The CPU's L4 is a validated L4 of the domain with a type reference,
    /// and the victim frame is untouched.
    fn assert_cpu_safe(&self) {
        let cr3 = self.s.platform.guest.mmu().unwrap().cr3();
        let info = self.s.frames.frame(cr3).unwrap();
        assert_eq!(info.page_type(), PageType::L4, "CR3 holds {cr3}, no L4 now");
        assert!(info.type_count() > 0 && info.is_validated());
        assert_eq!(info.owner(), Some(DOMID));
        assert_eq!(self.s.platform.memory.read_u64(VICTIM.address()), VICTIM_WORD);
        self.s.frames.check_invariants(&self.s.platform.memory).unwrap();
    }

    /// Gives everything back and checks that every frame is free again.
    fn tear_down(mut self) {
        let Setup {
            domain,
            frames,
            platform,
            ..
        } = &mut self.s;
        domain.release_memory(frames, &mut platform.memory, &mut |_| ());
        assert!(frames.frames().iter().all(FrameInfo::is_free));
    }
}

fn op(cmd: u32, arg1: u64, arg2: u64) -> MmuextOp {
    MmuextOp {
        cmd,
        arg1,
        arg2,
        ..MmuextOp::new_zeroed()
    }
}

#[test]
fn clearing_the_old_base_in_the_switching_batch_leaves_the_cpu_on_a_valid_l4() {
    // A CPU that caches nothing walks the tables in CR3 at every access.
    let mut w = walked(Caching::Nothing);
    let (old, new) = (w.l4, w.pinned_copy_of_l4());
    // Once the old L4 is untyped it is an ordinary frame of the guest's; the
    // CPU must have left it by then.
    let result = w.ops(&[
        op(MMUEXT_UNPIN_TABLE, old.0, 0),
        op(MMUEXT_NEW_BASEPTR, new.0, 0),
        op(MMUEXT_CLEAR_PAGE, old.0, 0),
    ]);
    assert_eq!(result, Completion::Value(0));
    assert_eq!(w.done_count(), 3, "*done is written through the new tables");
    assert_eq!(w.s.platform.guest.mmu().unwrap().cr3(), new);
    assert_eq!(w.s.platform.memory.frame_words(old), [0; 512], "the old L4 was cleared");
    w.assert_cpu_safe();
    w.tear_down();
}

#[test]
fn a_forged_tree_copied_over_the_old_base_is_never_walked() {
    let mut w = walked(Caching::Nothing);
    let (old, new) = (w.l4, w.pinned_copy_of_l4());
    // A forged tree that maps the *done page onto the victim, built in
    // frames the guest owns and may write.
    let done = w.done();
    let [_, forged_l4, forged_l3, forged_l2, forged_l1, ..] = w.spares;
    let memory = &mut w.s.platform.memory;
    let flags = PRESENT | RW | USER;
    for (table, shift, next) in [
        (forged_l4, 39, forged_l3),
        (forged_l3, 30, forged_l2),
        (forged_l2, 21, forged_l1),
        (forged_l1, 12, VICTIM),
    ] {
        memory.write_u64(
            entry_address(table, ((done >> shift) & 511) as usize),
            next.address() | flags,
        );
    }
    let result = w.ops(&[
        op(MMUEXT_UNPIN_TABLE, old.0, 0),
        op(MMUEXT_NEW_BASEPTR, new.0, 0),
        op(MMUEXT_COPY_PAGE, old.0, forged_l4.0),
    ]);
    assert_eq!(result, Completion::Value(0));
    assert_eq!(w.done_count(), 3);
    w.assert_cpu_safe();
    w.tear_down();
}

#[test]
fn a_stale_writable_translation_cannot_write_into_a_new_page_table() {
    // A CPU that keeps translations until it is told to drop them.
    let mut w = walked(Caching::UntilFlushed);
    let target = w.spares[1];
    // An alias of the target, writable, over the first kernel page, used
    // once so the TLB holds it.
    let alias = w.layout.kernel.start;
    let alias_entry = l1_entry_address(&w.s.platform.memory, w.l4, alias);
    let update = |val| MmuUpdate {
        ptr: alias_entry | MMU_NORMAL_PT_UPDATE,
        val,
    };
    let (list, done) = (w.list(), w.done());
    w.s.put(list, update(target.address() | PRESENT | RW | USER).as_bytes());
    assert_eq!(
        w.s.call(nr::MMU_UPDATE, [list, 1, done, u64::from(DOMID_SELF), 0]),
        Completion::Value(0)
    );
    w.s.put(alias, &[0; 8]);
    // The mapping goes (an L1 edit: the guest flushes for itself, and does
    // not), and through the stale alias the guest leaves a read-only
    // mapping of its own L4 in the target, which validates as an L1 entry.
    w.s.put(list, update(0).as_bytes());
    assert_eq!(
        w.s.call(nr::MMU_UPDATE, [list, 1, done, u64::from(DOMID_SELF), 0]),
        Completion::Value(0)
    );
    let read_only_l4 = w.l4.address() | PRESENT;
    w.s.put(alias, &(read_only_l4 as u32).to_le_bytes());
    // Then a resumed two-op batch (so *done starts from what the alias
    // holds) pins the target as an L1 and reports to the alias: two done
    // would make the entry PRESENT | RW, the L4 writable.
    let ops = [op(MMUEXT_PIN_L1_TABLE, target.0, 0), op(MMUEXT_NEW_USER_BASEPTR, 0, 0)];
    w.s.put(list, ops.as_bytes());
    let result = w.s.call(
        nr::MMUEXT_OP,
        [list, 2 | MMU_UPDATE_PREEMPTED, alias, u64::from(DOMID_SELF), 0],
    );
    assert_eq!(
        result,
        Completion::Value(Errno::EFAULT.as_return()),
        "*done is unmapped now"
    );
    assert_eq!(w.s.frames.frame(target).unwrap().page_type(), PageType::L1);
    let entry = w.s.platform.memory.read_u64(target.address());
    assert_eq!(entry_mfn(entry), w.l4);
    assert_eq!(entry & RW, 0, "the L4 is mapped read-only");
    w.assert_cpu_safe();
    w.tear_down();
}
