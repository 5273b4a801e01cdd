//! The manager over a fake hypervisor that applies updates to a sparse
//! machine memory and records every hypercall.

extern crate std;

use super::*;
use std::collections::BTreeMap;
use std::vec::Vec;
use xen_abi::mmu::{MMUEXT_PIN_L4_TABLE, UVMF_INVLPG};

const VIRT_BASE: u64 = 0xffff_ffff_8000_0000;
/// Machine frame of pfn N: N + MFN_OFFSET.
pub(crate) const MFN_OFFSET: u64 = 0x4000;
const NR_PAGES: u64 = 1024;
/// The boot L4 is pfn 20, followed by 4 more tables and the stack.
pub(crate) const PT_PFN: u64 = 20;
const P2M_VA: u64 = VIRT_BASE + 0x8000;

#[derive(Default)]
pub(crate) struct FakeXen {
    /// Machine memory by word address.
    words: BTreeMap<u64, u64>,
    updates: Vec<Vec<MmuUpdate>>,
    pub(crate) ops: Vec<MmuextOp>,
    pub(crate) remaps: Vec<(u64, u64, u64)>,
    /// The L4 the last NEW_BASEPTR loaded.
    root: Option<u64>,
}

impl FakeXen {
    /// The machine address `va` has: the bootstrap mapping for the kernel
    /// area, otherwise a walk of the tables under the loaded root.
    fn translate(&self, va: u64) -> u64 {
        if va >= VIRT_BASE {
            let pfn = (va - VIRT_BASE) / PAGE_SIZE;
            return ((pfn + MFN_OFFSET) << 12) + va % PAGE_SIZE;
        }
        let mut table = self.root.expect("a non-kernel address before any switch");
        for level in [Level::L4, Level::L3, Level::L2, Level::L1] {
            let entry = self.words[&((table << 12) + index(va, level) * 8)];
            table = (entry & ADDRESS_MASK) >> 12;
        }
        (table << 12) + va % PAGE_SIZE
    }
}

impl MmuBackend for FakeXen {
    fn mmu_update(&mut self, requests: &[MmuUpdate]) -> Result<(), XenError> {
        for request in requests {
            self.words.insert(request.ptr & !3, request.val);
        }
        self.updates.push(requests.to_vec());
        Ok(())
    }

    fn mmuext_op(&mut self, ops: &[MmuextOp]) -> Result<(), XenError> {
        self.ops.extend_from_slice(ops);
        for op in ops.iter().filter(|op| op.cmd == MMUEXT_NEW_BASEPTR) {
            self.root = Some(op.arg1);
        }
        Ok(())
    }

    fn update_va_mapping(&mut self, va: u64, entry: u64, flags: u64) -> Result<(), XenError> {
        self.remaps.push((va, entry, flags));
        Ok(())
    }

    fn read_u64(&self, va: u64) -> u64 {
        if (P2M_VA..P2M_VA + NR_PAGES * 8).contains(&va) {
            return (va - P2M_VA) / 8 + MFN_OFFSET;
        }
        if (MACH2PHYS_VIRT_START..MACH2PHYS_VIRT_START + (1 << 30)).contains(&va) {
            let mfn = (va - MACH2PHYS_VIRT_START) / 8;
            return mfn.checked_sub(MFN_OFFSET).unwrap_or(u64::MAX);
        }
        self.words.get(&self.translate(va)).copied().unwrap_or(0)
    }

    fn write_u64(&mut self, va: u64, value: u64) {
        self.words.insert(self.translate(va), value);
    }
}

pub(crate) fn manager() -> PageTableManager<FakeXen> {
    let mut info = <StartInfo as zerocopy::FromZeros>::new_zeroed();
    info.pt_base = VIRT_BASE + PT_PFN * PAGE_SIZE;
    info.nr_pt_frames = 4;
    info.nr_pages = NR_PAGES;
    info.mfn_list = P2M_VA;
    let mut fake = FakeXen::default();
    // The boot L4 maps the kernel in slot 511 and, wrongly, something in a
    // hypervisor slot, which must not be copied.
    let boot_l4 = (PT_PFN + MFN_OFFSET) << 12;
    fake.words.insert(boot_l4 + 511 * 8, 0x1234_5000 | TABLE_FLAGS);
    fake.words.insert(boot_l4 + 260 * 8, 0x9999_9000 | TABLE_FLAGS);
    PageTableManager::new(fake, &info, VIRT_BASE)
}

#[test]
fn frames_come_from_the_slack_after_the_boot_stack_and_run_out() {
    let mut m = manager();
    let first = m.allocate_frame().unwrap();
    // 20 (L4) + 4 tables + the stack page.
    assert_eq!(first.pfn, 25);
    assert_eq!(first.mfn, 25 + MFN_OFFSET);
    assert_eq!(first.va, VIRT_BASE + 25 * PAGE_SIZE);
    assert_eq!(m.free_frames(), 127);
    while m.allocate_frame().is_ok() {}
    assert_eq!(m.allocate_frame(), Err(PageTableError::OutOfFrames));
}

#[test]
fn a_new_table_is_zeroed_then_mapped_read_only() {
    let mut m = manager();
    m.backend().words.insert((25 + MFN_OFFSET) << 12, 0xdead);
    let table = m.new_table().unwrap();
    assert_eq!(m.backend().read_u64(table.va), 0);
    assert_eq!(
        m.backend().remaps,
        [(table.va, (table.mfn << 12) | PRESENT | ACCESSED, UVMF_INVLPG)]
    );
}

#[test]
fn a_new_address_space_shares_the_guest_slots_and_is_pinned() {
    let mut m = manager();
    let info_root = m.frame(PT_PFN);
    let root = m.new_address_space(&info_root).unwrap();
    let copied: Vec<u64> = m.backend().updates[0]
        .iter()
        .map(|u| (u.ptr - (root.mfn << 12)) / 8)
        .collect();
    assert_eq!(copied, [511], "the hypervisor slot is left alone");
    let pin = m.backend().ops[0];
    assert_eq!((pin.cmd, pin.arg1), (MMUEXT_PIN_L4_TABLE, root.mfn));
}

#[test]
fn mapping_creates_missing_tables_and_batches_the_leaves() {
    let mut m = manager();
    let root = m.new_table().unwrap();
    let va = 0x0000_2000_0000_0000;
    let data = m.allocate_frame().unwrap();
    m.map(root.mfn, va, data.mfn, PRESENT | RW).unwrap();
    // Three tables made (L3, L2, L1), each linked in its own hypercall.
    assert_eq!(m.backend().updates.len(), 3);
    for page in 1..16 {
        m.map(root.mfn, va + page * PAGE_SIZE, data.mfn, PRESENT).unwrap();
    }
    assert_eq!(m.backend().updates.len(), 3, "leaves wait in the queue");
    m.flush().unwrap();
    let leaves = m.backend().updates.last().unwrap().clone();
    assert_eq!(leaves.len(), 16, "sixteen leaves, one hypercall");
    // The tree is there to walk: L4 -> L3 -> L2 -> L1 -> data.
    let mut table = root.mfn;
    for level in [Level::L4, Level::L3, Level::L2, Level::L1] {
        let entry = m.backend().words[&((table << 12) + index(va, level) * 8)];
        assert_ne!(entry & PRESENT, 0, "{level:?}");
        table = (entry & ADDRESS_MASK) >> 12;
    }
    assert_eq!(table, data.mfn);
    m.unmap(root.mfn, va).unwrap();
    m.flush().unwrap();
    assert_eq!(m.backend().updates.last().unwrap()[0].val, 0);
}

#[test]
fn a_full_queue_flushes_itself() {
    let mut m = manager();
    for index in 0..QUEUE_LENGTH as u64 + 1 {
        m.queue(0x1000_0000 + index * 8, index).unwrap();
    }
    assert_eq!(m.backend().updates.len(), 1);
    assert_eq!(m.backend().updates[0].len(), QUEUE_LENGTH);
    m.flush().unwrap();
    assert_eq!(m.backend().updates[1].len(), 1);
}

#[test]
fn hypervisor_slots_and_non_canonical_addresses_are_refused_before_any_hypercall() {
    let mut m = manager();
    let root = m.frame(PT_PFN).mfn;
    for va in [0xffff_8000_0000_0000, 0xffff_8700_0000_0000, 0x0000_8000_0000_0000] {
        assert_eq!(m.map(root, va, 1, PRESENT), Err(PageTableError::BadAddress(va)));
    }
    assert_eq!(m.hypercalls(), 0);
}

#[test]
fn a_table_outside_the_bootstrap_mapping_is_not_read() {
    let mut m = manager();
    // An L4 whose slot 0 points at a frame the M2P does not know.
    let root = m.new_table().unwrap();
    m.backend().words.insert(root.mfn << 12, (0x10 << 12) | TABLE_FLAGS);
    assert_eq!(
        m.map(root.mfn, 0x1000, 1, PRESENT),
        Err(PageTableError::UnreadableTable(0x10))
    );
}

#[test]
fn only_pool_frames_mapped_in_the_current_space_can_be_touched() {
    let mut m = manager();
    let root = m.new_address_space(&m.frame(PT_PFN)).unwrap();
    let data = m.allocate_frame().unwrap();
    let va = 0x0000_2000_0000_0000;
    m.map(root.mfn, va, data.mfn, PRESENT | RW).unwrap();
    m.map(root.mfn, va + PAGE_SIZE, data.mfn, PRESENT).unwrap();
    m.flush().unwrap();
    assert_eq!(
        m.write_mapped(va, 7),
        Err(PageTableError::NotMapped(va)),
        "not the current space yet"
    );
    m.switch_to(root.mfn).unwrap();
    assert_eq!(m.current_root(), root.mfn);
    m.write_mapped(va + 8, 42).unwrap();
    assert_eq!(m.read_mapped(va + PAGE_SIZE + 8), Ok(42), "the same frame, read-only");
    assert_eq!(
        m.write_mapped(va + PAGE_SIZE, 1),
        Err(PageTableError::NotMapped(va + PAGE_SIZE))
    );
    assert_eq!(m.write_mapped(va + 3, 1), Err(PageTableError::NotMapped(va + 3)));
}

#[test]
fn the_user_base_is_one_mmuext_op_after_the_queue_is_flushed() {
    let mut manager = manager();
    manager.queue(0x1000, 0).unwrap();
    manager.set_user_base(0x4321).unwrap();
    let xen = manager.backend();
    assert_eq!(xen.updates.len(), 1, "the queued update went first");
    let op = xen.ops.last().unwrap();
    assert_eq!((op.cmd, op.arg1), (xen_abi::mmu::MMUEXT_NEW_USER_BASEPTR, 0x4321));
}

#[test]
fn the_boot_region_ends_at_4_mib_with_512_kib_past_the_stack() {
    let tables = manager();
    let mut info = <StartInfo as zerocopy::FromZeros>::new_zeroed();
    info.pt_base = VIRT_BASE + PT_PFN * PAGE_SIZE;
    info.nr_pt_frames = 4;
    assert_eq!(tables.boot_region_end_pfn(&info), 1024, "stack ends at 100 KiB");
    // A stack ending 100 KiB short of 4 MiB leaves too little: 8 MiB.
    info.pt_base = VIRT_BASE + (1024 - 25 - 5) * PAGE_SIZE;
    assert_eq!(tables.boot_region_end_pfn(&info), 2048);
}
