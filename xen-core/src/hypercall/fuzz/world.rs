//! The fuzzer's world: three built domUs (and a dom0 without memory to
//! receive VIRQ_DOM_EXC) on one fake machine whose CPU walks the running
//! domain's tables, and how each [`FuzzOp`] becomes hypercalls.

use super::ops::FuzzOp;
use crate::arch::fake::FakePlatform;
use crate::arch::fake_mmu::Caching;
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::domain::domain_death::begin_destroy_domain;
use crate::domain::domain_table::DomainTable;
use crate::domain::pv_domain::DomainState;
use crate::hypercall::test_domains::build_domain_in;
use crate::mm::budget::Budget;
use crate::mm::layout::FIRST_HYPERVISOR_L4_SLOT;
use crate::mm::pte_rules::{ACCESSED, HYPERVISOR_L4_SLOTS, PRESENT, RW, entry_address};
use crate::mm::{FrameInfo, FrameTable, Mfn};
use crate::trap_frame::TrapFrame;
use xen_abi::grant_table::*;
use xen_abi::mmu::DomId;

/// The domUs.
pub const DOMUS: [DomId; 3] = [1, 2, 3];
/// Pages each domU has: the least the builder lays out (4 MiB).
const PAGES: u64 = 1024;
/// Frames each domU may take when built.
const BUILD_FRAMES: u64 = 1100;
/// Spare frames each domU gets after building, zeroed, for new tables.
const SPARES: u64 = 6;
/// First frame the builder hands out.
const FIRST: u64 = 0x40;
/// The hypervisor's L4, which the builder copies slots 256–271 from.
const HYPERVISOR_L4: Mfn = Mfn(0x10);
/// Frames of the fake machine: the domUs', then some free ones.
pub const MACHINE_FRAMES: u64 = FIRST + 3 * (BUILD_FRAMES + SPARES) + 32;

/// What one step did, for the checks.
pub struct StepReport {
    /// The domain that ran, if it still exists.
    pub caller: Option<DomId>,
    /// Hypervisor word reads of the largest single invocation.
    pub max_reads: u64,
    /// Frames written during the step, by the hypervisor or the guest.
    pub written: std::collections::BTreeSet<u64>,
    /// The caller's frames when the step began: one of them may be written
    /// and then freed by the same step (a frame it gave up, written while
    /// still mapped, whose last mapping the step took away).
    pub owned_at_start: std::collections::BTreeSet<u64>,
    /// Hypercall invocations made.
    pub invocations: u64,
}

/// The machine, the domains and what the fuzzer remembers of them.
pub struct World {
    /// The domains (boxed: the table is large).
    pub domains: std::boxed::Box<DomainTable>,
    /// The frame table.
    pub frames: FrameTable<'static>,
    /// The fake machine.
    pub platform: FakePlatform,
    /// The registers of the domain on the CPU (one frame: the fuzzer's
    /// domains run one at a time and start from it).
    pub frame: TrapFrame,
    /// Per domU: its argument page and the virtual range it maps.
    pub(super) layout: [(u64, u64, u64); 3],
    /// Per domU: a preempted hypercall to resume (number, arguments).
    pub(super) pending: [Option<(u32, [u64; 5])>; 3],
    /// Which domain's tables the fake CPU holds.
    pub on_cpu: Option<DomId>,
    /// The most words one teardown pass read.
    pub teardown_reads: u64,
}

impl World {
    /// Builds the three domUs and puts the first on the CPU.
    pub fn new(caching: Caching) -> World {
        let mut platform = FakePlatform::default();
        // The hypervisor's L4 (its slots point far beyond the fake machine:
        // nothing walks them) and the frame table that installs them.
        let slots: [u64; HYPERVISOR_L4_SLOTS] =
            core::array::from_fn(|slot| (0x8000_0000 + ((slot as u64) << 12)) | PRESENT | RW | ACCESSED);
        for (offset, &slot) in slots.iter().enumerate() {
            platform
                .memory
                .write_u64(entry_address(HYPERVISOR_L4, FIRST_HYPERVISOR_L4_SLOT + offset), slot);
        }
        let storage = std::vec![FrameInfo::FREE; MACHINE_FRAMES as usize].leak();
        let mut frames = FrameTable::new(storage, slots);
        let mut domains = std::boxed::Box::new(DomainTable::new());
        assert!(domains.create(0, "dom0", Mfn(0x11), 1).is_some());
        let mut layout = [(0, 0, 0); 3];
        for (slot, &id) in DOMUS.iter().enumerate() {
            let first = FIRST + slot as u64 * (BUILD_FRAMES + SPARES);
            let vacant = domains.vacant(id).unwrap();
            let built = build_domain_in(&mut platform, &mut frames, vacant, PAGES, first, BUILD_FRAMES);
            for spare in first + BUILD_FRAMES..first + BUILD_FRAMES + SPARES {
                frames.assign(Mfn(spare), id).unwrap();
                platform.memory.zero_frame(Mfn(spare));
            }
            assert!(built.domain.grants.setup(1).is_some());
            layout[slot] = (built.layout.stack, built.layout.virt_base, built.layout.end);
        }
        // The machine's free frames, which reservations come from.
        let free = FIRST + 3 * (BUILD_FRAMES + SPARES);
        platform
            .frames
            .add_free_range(crate::mm::PhysRange::new(free * 4096, MACHINE_FRAMES * 4096));
        // The M2P's runs, as machphys_mfn_list names them (frames of the
        // hypervisor's, outside the frame table's domains).
        platform.m2p_extents = std::vec![Mfn(0x10_0000), Mfn(0x10_0200), Mfn(0x10_0400)];
        let _ = frames.take_flush_request();
        let l4 = base_of(&domains, DOMUS[0]).unwrap();
        platform.guest.walk_tables(&platform.memory, l4, caching);
        if let Some(mmu) = platform.guest.mmu_mut() {
            mmu.expect_hypervisor_slots(slots);
        }
        World {
            domains,
            frames,
            platform,
            frame: TrapFrame::default(),
            layout,
            pending: [None; 3],
            on_cpu: Some(DOMUS[0]),
            teardown_reads: 0,
        }
    }

    /// Domains still alive.
    pub fn alive(&self) -> impl Iterator<Item = DomId> + '_ {
        DOMUS.into_iter().filter(|&id| self.domains.get(id).is_some())
    }

    /// Runs one step; `None` if it named no live domain.
    pub fn step(&mut self, op: &FuzzOp) -> Option<StepReport> {
        let caller = match *op {
            FuzzOp::Die { domain } => DOMUS.get(usize::from(domain))?,
            FuzzOp::MmuUpdate { caller, .. }
            | FuzzOp::Mmuext { caller, .. }
            | FuzzOp::UpdateVa { caller, .. }
            | FuzzOp::GuestWrite { caller, .. }
            | FuzzOp::GrantWrite { caller, .. }
            | FuzzOp::GrantMap { caller, .. }
            | FuzzOp::GrantUnmap { caller, .. }
            | FuzzOp::GrantCopy { caller, .. }
            | FuzzOp::Event { caller, .. }
            | FuzzOp::Multicall { caller, .. }
            | FuzzOp::CloneBase { caller, .. }
            | FuzzOp::SegmentBase { caller, .. }
            | FuzzOp::StackSwitch { caller, .. }
            | FuzzOp::Iret { caller, .. }
            | FuzzOp::SetGdt { caller, .. }
            | FuzzOp::UpdateDescriptor { caller, .. }
            | FuzzOp::DebugReg { caller, .. }
            | FuzzOp::VcpuAreas { caller, .. }
            | FuzzOp::VmAssist { caller, .. }
            | FuzzOp::PageTableWrite { caller, .. }
            | FuzzOp::Reservation { caller, .. }
            | FuzzOp::GrantSetup { caller, .. }
            | FuzzOp::Resume { caller } => &DOMUS[usize::from(caller)],
        };
        let caller = *caller;
        self.domains.get(caller)?;
        self.switch_to(caller);
        let _ = self.platform.memory.take_written_frames();
        let _ = self.platform.memory.take_reads();
        let mut report = StepReport {
            caller: Some(caller),
            max_reads: 0,
            written: Default::default(),
            owned_at_start: (0..self.frames.frame_count())
                .filter(|&mfn| {
                    self.frames
                        .frame(Mfn(mfn))
                        .is_some_and(|info| info.owner() == Some(caller))
                })
                .collect(),
            invocations: 0,
        };
        self.run(caller, op, &mut report);
        report.written = self.platform.memory.take_written_frames();
        // A domain the hypervisor crashed is destroyed, as the scheduler does.
        if self
            .domains
            .get(caller)
            .is_some_and(|domain| domain.state() != DomainState::Running)
        {
            self.destroy(caller);
        }
        if self.domains.get(caller).is_none() {
            report.caller = None;
        }
        Some(report)
    }

    /// Puts `id` on the CPU: its L4 into the fake CR3, as a context switch.
    pub(super) fn switch_to(&mut self, id: DomId) {
        if self.on_cpu != Some(id)
            && let Some(l4) = base_of(&self.domains, id)
        {
            self.platform.guest.load_page_table_base(l4);
            self.on_cpu = Some(id);
        }
    }

    pub(super) fn destroy(&mut self, id: DomId) {
        if self.on_cpu == Some(id) {
            // The CPU leaves the dying domain's tables first (the kernel
            // loads its idle L4); the fake has nothing to walk meanwhile.
            self.on_cpu = None;
        }
        let slot = slot_of(id);
        self.pending[slot] = None;
        begin_destroy_domain(
            &mut self.domains,
            &mut self.frames,
            &mut self.platform.memory,
            id,
            &mut |_| (),
        );
        // The teardown, a bounded part per scheduling pass, as the kernel
        // runs it; other domains' steps could run in between.
        let _ = self.platform.memory.take_reads();
        loop {
            let mut budget = Budget::per_invocation();
            let finished = self
                .frames
                .relinquish_steps(&mut self.platform.memory, &mut budget, &mut |_| ());
            self.teardown_reads = self.teardown_reads.max(self.platform.memory.take_reads());
            if finished.iter().any(|&(owner, _)| owner == id) || !self.frames.has_jobs() {
                break;
            }
        }
        let _ = self.frames.take_freed_orphans().count();
    }
}

impl World {
    /// Destroys every domain left; whether every frame is free afterwards.
    pub fn tear_down(&mut self) -> bool {
        for id in DOMUS {
            if self.domains.get(id).is_some() {
                self.destroy(id);
            }
        }
        self.frames.frames().iter().all(FrameInfo::is_free)
    }
}

impl Drop for World {
    /// A failed case drops its world: its domains give their references
    /// back as they go (the test build panics on a reference never put).
    fn drop(&mut self) {
        let _ = self.tear_down();
    }
}

/// The domU's index in [`DOMUS`].
pub(super) fn slot_of(id: DomId) -> usize {
    DOMUS.iter().position(|&domu| domu == id).expect("a domU")
}

/// The L4 domain `id` runs on.
pub fn base_of(domains: &DomainTable, id: DomId) -> Option<Mfn> {
    domains.get(id)?.vcpu.kernel_base.as_ref().map(|base| base.mfn())
}

/// The frames of `granter`'s grant entries that grant `grantee` writes.
pub fn written_grants(world: &World, grantee: DomId) -> std::vec::Vec<Mfn> {
    let mut frames = std::vec::Vec::new();
    for granter in world.domains.iter() {
        for gref in 0..512 {
            let Some(address) = granter.grants.entry_address(gref) else {
                break;
            };
            let entry = world.platform.memory.read_u64(address);
            let flags = GrantFlags::from_bits_retain(entry as u16);
            let to = (entry >> 16) as u16;
            if flags.contains(GrantFlags::PERMIT_ACCESS) && !flags.contains(GrantFlags::READONLY) && to == grantee {
                frames.push(Mfn(entry >> 32));
            }
        }
    }
    frames
}
