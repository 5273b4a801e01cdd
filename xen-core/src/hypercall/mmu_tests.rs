//! The PV MMU hypercalls through the hypercall table, on a domain the
//! builder made: what the platform is told to flush and load.

use super::test_domains::{build_domain, l1_entry_address};
use super::tests::Setup;
use super::*;
use crate::arch::fake::FakePlatform;
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::domain::boot_layout::BootLayout;
use crate::mm::pte_rules::{HYPERVISOR_L4_SLOTS, PRESENT, RW, entry_address, entry_mfn};
use crate::mm::tlb_flush::TlbFlush;
use crate::mm::{FrameInfo, Mfn, PageType};
use xen_abi::errno::Errno;
use xen_abi::hypercall as nr;
use xen_abi::mmu::DomId;
use xen_abi::mmu::{
    DOMID_SELF, MMU_NORMAL_PT_UPDATE, MMUEXT_NEW_BASEPTR, MMUEXT_PIN_L4_TABLE, MmuUpdate, MmuextOp, UVMF_INVLPG,
};
use xen_abi::multicall::MulticallEntry;
use zerocopy::{FromZeros, IntoBytes};

/// Guest pages holding argument lists.
const LIST: u64 = 0x10_0000;
/// Guest page holding `*done`.
const DONE: u64 = 0x20_0000;
/// The domain under test.
const DOMID: DomId = 1;
/// Frames the builder may take, from 0x100 on.
const BUILD_FRAMES: u64 = 8192;

struct Guest {
    s: Setup,
    layout: BootLayout,
    l4: Mfn,
    /// A free frame given to the domain after building, for new tables.
    spare: Mfn,
}

fn guest() -> Guest {
    let mut platform = FakePlatform::default();
    let storage = std::vec![FrameInfo::FREE; 0x100 + BUILD_FRAMES as usize + 1].leak();
    let mut frames = FrameTable::new(storage, [0; HYPERVISOR_L4_SLOTS]);
    let built = build_domain(&mut platform, &mut frames, DOMID, 1024, 0x100, BUILD_FRAMES);
    let spare = Mfn(0x100 + BUILD_FRAMES);
    frames.assign(spare, DOMID).unwrap();
    for page in 0..4 {
        platform.guest.map(LIST + page * 4096, true);
    }
    platform.guest.map(DONE, true);
    Guest {
        s: Setup {
            domain: built.domain,
            frames,
            frame: built.frame,
            platform,
        },
        layout: built.layout,
        l4: built.l4,
        spare,
    }
}

impl Guest {
    /// The machine address of the L1 entry that maps `va`.
    fn l1_entry_address(&self, va: u64) -> u64 {
        l1_entry_address(&self.s.platform.memory, self.l4, va)
    }

    fn ops(&mut self, ops: &[MmuextOp]) -> Completion {
        self.s.put(LIST, ops.as_bytes());
        self.s
            .call(nr::MMUEXT_OP, [LIST, ops.len() as u64, DONE, u64::from(DOMID_SELF), 0])
    }

    /// Checks the frame table, gives everything back and checks that every
    /// frame is free again.
    fn tear_down(mut self) {
        self.s.frames.check_invariants(&self.s.platform.memory).unwrap();
        self.s
            .domain
            .release_memory(&mut self.s.frames, &mut self.s.platform.memory, &mut |_| ());
        assert!(self.s.frames.frames().iter().all(FrameInfo::is_free));
    }
}

fn op(cmd: u32, arg1: u64) -> MmuextOp {
    MmuextOp {
        cmd,
        arg1,
        ..MmuextOp::new_zeroed()
    }
}

#[test]
fn update_va_mapping_edits_the_current_tables_and_flushes_only_on_success() {
    let mut g = guest();
    let va = g.layout.start_info;
    let slot = g.l1_entry_address(va);
    let mfn = entry_mfn(g.s.platform.memory.read_u64(slot));
    assert_eq!(
        g.s.call(nr::UPDATE_VA_MAPPING, [va, mfn.address() | PRESENT, UVMF_INVLPG, 0, 0]),
        Completion::Value(0)
    );
    assert_eq!(g.s.platform.memory.read_u64(slot) & RW, 0, "now read-only");
    assert_eq!(g.s.platform.guest.flushes, [TlbFlush::Page(va)]);
    // Mapping the L4 itself writable is refused, and nothing is flushed.
    let attack = g.l4.address() | PRESENT | RW;
    assert_eq!(
        g.s.call(nr::UPDATE_VA_MAPPING, [va, attack, UVMF_INVLPG, 0, 0]),
        Completion::Value(Errno::EBUSY.as_return())
    );
    assert_eq!(g.s.platform.guest.flushes.len(), 1);
    g.tear_down();
}

#[test]
fn update_va_mapping_needs_a_base_pointer() {
    let mut g = guest();
    let base = g.s.domain.vcpu.kernel_base.take().unwrap();
    let va = g.layout.start_info;
    assert_eq!(
        g.s.call(nr::UPDATE_VA_MAPPING, [va, 0, 0, 0, 0]),
        Completion::Value(Errno::EINVAL.as_return())
    );
    g.s.domain.vcpu.kernel_base = Some(base);
    g.tear_down();
}

#[test]
fn a_new_base_pointer_is_validated_then_loaded() {
    let mut g = guest();
    let spare = g.spare;
    assert_eq!(
        g.ops(&[op(MMUEXT_NEW_BASEPTR, 0x100 + 3)]),
        Completion::Value(Errno::EINVAL.as_return())
    );
    assert!(g.s.platform.guest.bases.is_empty(), "a refused base is not loaded");
    assert_eq!(
        g.ops(&[op(MMUEXT_PIN_L4_TABLE, spare.0), op(MMUEXT_NEW_BASEPTR, spare.0)]),
        Completion::Value(0)
    );
    assert_eq!(g.s.platform.guest.bases, [spare]);
    assert_eq!(g.s.frames.frame(spare).unwrap().page_type(), PageType::L4);
    assert_eq!(g.s.domain.vcpu.kernel_base.as_ref().unwrap().mfn(), spare);
    g.tear_down();
}

#[test]
fn mmu_update_flushes_after_upper_level_edits_and_continues_long_batches() {
    let mut g = guest();
    let l4_edit = MmuUpdate {
        ptr: entry_address(g.l4, 1) | MMU_NORMAL_PT_UPDATE,
        val: 0,
    };
    g.s.put(LIST, l4_edit.as_bytes());
    let args = [LIST, 1, DONE, u64::from(DOMID_SELF), 0];
    assert_eq!(g.s.call(nr::MMU_UPDATE, args), Completion::Value(0));
    assert_eq!(g.s.platform.guest.flushes, [TlbFlush::All]);
    // 200 plain writes into a frame that is no table: 128, then the rest.
    let writes: std::vec::Vec<MmuUpdate> = (0..200)
        .map(|index| MmuUpdate {
            ptr: entry_address(g.spare, index % 512),
            val: index as u64,
        })
        .collect();
    g.s.put(LIST, writes.as_bytes());
    match g.s.call(nr::MMU_UPDATE, [LIST, 200, DONE, u64::from(DOMID_SELF), 0]) {
        Completion::Continue([next, count, ..]) => {
            assert_eq!(next, LIST + 128 * 16);
            assert_eq!(count & 0xffff, 72);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(g.s.platform.guest.flushes.len(), 1, "plain writes flush nothing");
    g.tear_down();
}

#[test]
fn a_multicall_of_va_updates_runs_each_and_flushes_each() {
    let mut g = guest();
    let (first, second) = (g.layout.start_info, g.layout.stack);
    let entries: std::vec::Vec<MulticallEntry> = [first, second]
        .iter()
        .map(|&va| {
            let mfn = entry_mfn(g.s.platform.memory.read_u64(g.l1_entry_address(va)));
            let mut entry = MulticallEntry::new_zeroed();
            entry.op = u64::from(nr::UPDATE_VA_MAPPING);
            entry.result = 1;
            entry.args[..3].copy_from_slice(&[va, mfn.address() | PRESENT, UVMF_INVLPG]);
            entry
        })
        .collect();
    g.s.put(LIST, entries.as_bytes());
    assert_eq!(g.s.call(nr::MULTICALL, [LIST, 2, 0, 0, 0]), Completion::Value(0));
    let mut results = [0u8; 8];
    for (index, va) in [first, second].into_iter().enumerate() {
        g.s.platform
            .guest
            .read(LIST + index as u64 * 64 + 8, &mut results)
            .unwrap();
        assert_eq!(u64::from_le_bytes(results), 0, "entry {index}");
        assert_eq!(g.s.platform.memory.read_u64(g.l1_entry_address(va)) & RW, 0);
    }
    assert_eq!(
        g.s.platform.guest.flushes,
        [TlbFlush::Page(first), TlbFlush::Page(second)]
    );
    g.tear_down();
}
