//! The fuzzer's world: three built domUs (and a dom0 without memory to
//! receive VIRQ_DOM_EXC) on one fake machine whose CPU walks the running
//! domain's tables, and how each [`FuzzOp`] becomes hypercalls.

use super::ops::{EntryChoice, ExtChoice, FrameChoice, FuzzOp, VaChoice};
use crate::arch::fake::FakePlatform;
use crate::arch::fake_mmu::Caching;
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::domain::domain_death::begin_destroy_domain;
use crate::domain::domain_table::DomainTable;
use crate::domain::pv_domain::DomainState;
use crate::hypercall::Completion;
use crate::hypercall::test_domains::{build_domain_in, call_as};
use crate::mm::budget::Budget;
use crate::mm::layout::FIRST_HYPERVISOR_L4_SLOT;
use crate::mm::pte_rules::{
    ACCESSED, DIRTY, GLOBAL, GNTTAB, HYPERVISOR_L4_SLOTS, NX, PRESENT, PSE, RW, USER, entry_address,
};
use crate::mm::{FrameInfo, FrameTable, Mfn, PageType};
use crate::trap_frame::TrapFrame;
use xen_abi::event_channel::*;
use xen_abi::grant_table::*;
use xen_abi::hypercall as nr;
use xen_abi::mmu::DomId;
use xen_abi::mmu::*;
use xen_abi::multicall::MulticallEntry;
use xen_abi::trap::IretContext;
use zerocopy::{FromZeros, Immutable, IntoBytes};

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
    layout: [(u64, u64, u64); 3],
    /// Per domU: a preempted hypercall to resume (number, arguments).
    pending: [Option<(u32, [u64; 5])>; 3],
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
    fn switch_to(&mut self, id: DomId) {
        if self.on_cpu != Some(id)
            && let Some(l4) = base_of(&self.domains, id)
        {
            self.platform.guest.load_page_table_base(l4);
            self.on_cpu = Some(id);
        }
    }

    fn destroy(&mut self, id: DomId) {
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

    fn run(&mut self, caller: DomId, op: &FuzzOp, report: &mut StepReport) {
        let (arg, ..) = self.layout[slot_of(caller)];
        let done = arg + 4096 - 8;
        match op {
            FuzzOp::MmuUpdate { requests, .. } => {
                let list: std::vec::Vec<MmuUpdate> = requests
                    .iter()
                    .map(|(table, slot, command, value)| MmuUpdate {
                        ptr: self.frame_of(caller, *table).address() + u64::from(slot % 512) * 8 + u64::from(*command),
                        val: self.entry_of(caller, *value),
                    })
                    .collect();
                self.batch(caller, nr::MMU_UPDATE, list.as_bytes(), list.len(), report);
            }
            FuzzOp::Mmuext { ops, .. } => {
                let list: std::vec::Vec<MmuextOp> = ops.iter().map(|choice| self.ext_of(caller, *choice)).collect();
                self.batch(caller, nr::MMUEXT_OP, list.as_bytes(), list.len(), report);
            }
            FuzzOp::UpdateVa { va, value, flags, .. } => {
                let args = [
                    self.va_of(caller, *va),
                    self.entry_of(caller, *value),
                    u64::from(flags & 7),
                    0,
                    0,
                ];
                self.call(caller, nr::UPDATE_VA_MAPPING, args, report);
            }
            FuzzOp::GuestWrite { va, value, .. } => {
                let va = self.va_of(caller, *va) & !7;
                // Only where the guest itself may write: its half of the
                // address space (the CPU would fault anywhere else).
                if va < 0x8000_0000_0000 {
                    let _ = self.platform.guest.write(va, &value.to_le_bytes());
                }
            }
            FuzzOp::GrantWrite {
                gref,
                flags,
                grantee,
                frame,
                ..
            } => {
                let domain = self.domains.get(caller).unwrap();
                if let Some(address) = domain.grants.entry_address(u32::from(*gref)) {
                    let busy = (GrantFlags::READING | GrantFlags::WRITING).bits();
                    let old = self.platform.memory.read_u64(address);
                    // The granter's own rule: never over an entry in use.
                    if old as u16 & busy == 0 {
                        let grantee = [1, 2, 3, DOMID_SELF][usize::from(*grantee)];
                        let entry =
                            u64::from(flags & !busy) | u64::from(grantee) << 16 | self.frame_of(caller, *frame).0 << 32;
                        self.platform.memory.write_u64(address, entry);
                    }
                }
            }
            FuzzOp::GrantMap {
                granter,
                gref,
                flags,
                va,
                ..
            } => {
                let map = GnttabMapGrantRef {
                    host_addr: self.va_of(caller, *va),
                    flags: u32::from(*flags & 0x1f) | GntmapFlags::HOST_MAP.bits(),
                    gref: u32::from(*gref),
                    dom: [1, 2, 3, 7][usize::from(*granter)],
                    ..Default::default()
                };
                self.grant_op(caller, GNTTABOP_MAP_GRANT_REF, map, report);
            }
            FuzzOp::GrantUnmap { handle, va, .. } => {
                let unmap = GnttabUnmapGrantRef {
                    host_addr: self.va_of(caller, *va),
                    handle: u32::from(*handle),
                    ..Default::default()
                };
                // Half the time at the address the handle really maps.
                let real = self
                    .domains
                    .get(caller)
                    .and_then(|domain| domain.maptrack.get(unmap.handle))
                    .map(|entry| entry.mapping.va);
                let unmap = match real {
                    Some(va) if handle % 2 == 0 => GnttabUnmapGrantRef { host_addr: va, ..unmap },
                    _ => unmap,
                };
                self.grant_op(caller, GNTTABOP_UNMAP_GRANT_REF, unmap, report);
            }
            FuzzOp::GrantCopy {
                granter,
                gref,
                offset,
                len,
                to,
                to_granter,
                ..
            } => {
                let granter = [1, 2, 3, 7][usize::from(*granter)];
                let own = GnttabCopyPtr {
                    u: self.frame_of(caller, *to).0,
                    domid: DOMID_SELF,
                    offset: offset % 4096,
                    ..Default::default()
                };
                let granted = GnttabCopyPtr {
                    u: u64::from(*gref),
                    domid: granter,
                    offset: *offset,
                    ..Default::default()
                };
                let (source, dest, flags) = if *to_granter {
                    (own, granted, GntcopyFlags::DEST_GREF)
                } else {
                    (granted, own, GntcopyFlags::SOURCE_GREF)
                };
                let copy = GnttabCopy {
                    source,
                    dest,
                    len: *len % 4200,
                    flags: flags.bits(),
                    ..Default::default()
                };
                self.grant_op(caller, GNTTABOP_COPY, copy, report);
            }
            FuzzOp::Event { kind, peer, port, .. } => {
                let peer = [1, 2, 3, 0][usize::from(*peer)];
                let port = u32::from(*port);
                match kind {
                    0 => self.event_op(
                        caller,
                        EVTCHNOP_ALLOC_UNBOUND,
                        EvtchnAllocUnbound {
                            dom: DOMID_SELF,
                            remote_dom: peer,
                            port: 0,
                        },
                        report,
                    ),
                    1 => self.event_op(
                        caller,
                        EVTCHNOP_BIND_INTERDOMAIN,
                        EvtchnBindInterdomain {
                            remote_dom: peer,
                            remote_port: port,
                            ..Default::default()
                        },
                        report,
                    ),
                    2 => self.event_op(caller, EVTCHNOP_SEND, EvtchnSend { port }, report),
                    3 => self.event_op(caller, EVTCHNOP_CLOSE, EvtchnClose { port }, report),
                    _ => self.event_op(caller, EVTCHNOP_UNMASK, EvtchnUnmask { port }, report),
                }
            }
            FuzzOp::Multicall { entries, .. } => {
                // Each entry's arguments after the entry list, in the same page.
                let mut calls = std::vec::Vec::new();
                for (index, (va_call, va, value, ext)) in entries.iter().enumerate() {
                    let mut entry = MulticallEntry::new_zeroed();
                    if *va_call {
                        entry.op = u64::from(nr::UPDATE_VA_MAPPING);
                        entry.args[..3].copy_from_slice(&[self.va_of(caller, *va), self.entry_of(caller, *value), 2]);
                    } else {
                        let at = arg + 2048 + index as u64 * 32;
                        let request = self.ext_of(caller, *ext);
                        self.put(at, request.as_bytes());
                        entry.op = u64::from(nr::MMUEXT_OP);
                        entry.args[..4].copy_from_slice(&[at, 1, 0, u64::from(DOMID_SELF)]);
                    }
                    calls.push(entry);
                }
                self.put(arg, calls.as_bytes());
                self.call(caller, nr::MULTICALL, [arg, calls.len() as u64, 0, 0, 0], report);
            }
            FuzzOp::CloneBase { spare, .. } => {
                let spare = self.frame_of(caller, FrameChoice { kind: 3, index: *spare });
                let base = self.frame_of(caller, FrameChoice { kind: 0, index: 0 });
                let ops = [
                    MmuextOp {
                        cmd: MMUEXT_COPY_PAGE,
                        arg1: spare.0,
                        arg2: base.0,
                        ..MmuextOp::new_zeroed()
                    },
                    MmuextOp {
                        cmd: MMUEXT_PIN_L4_TABLE,
                        arg1: spare.0,
                        ..MmuextOp::new_zeroed()
                    },
                ];
                self.put(arg, ops.as_bytes());
                self.call(caller, nr::MMUEXT_OP, [arg, 2, done, u64::from(DOMID_SELF), 0], report);
            }
            FuzzOp::SegmentBase { which, base, .. } => {
                let args = [u64::from(*which), self.va_of(caller, *base), 0, 0, 0];
                self.call(caller, nr::SET_SEGMENT_BASE, args, report);
            }
            FuzzOp::StackSwitch { ss, sp, .. } => {
                let args = [u64::from(*ss), self.va_of(caller, *sp), 0, 0, 0];
                self.call(caller, nr::STACK_SWITCH, args, report);
            }
            FuzzOp::Iret {
                rip, cs, rflags, flags, ..
            } => {
                // The frame at the guest's stack pointer, in its argument page.
                let saved = IretContext {
                    rip: self.va_of(caller, *rip),
                    cs: u64::from(*cs),
                    rflags: *rflags,
                    rsp: arg + 1024,
                    ss: u64::from(*cs) + 8,
                    flags: *flags,
                    ..Default::default()
                };
                self.put(arg + 2048, saved.as_bytes());
                self.frame.rsp = arg + 2048;
                self.call(caller, nr::IRET, [0; 5], report);
            }
            FuzzOp::Resume { .. } => {
                if let Some((number, args)) = self.pending[slot_of(caller)].take() {
                    self.call(caller, number, args, report);
                }
            }
            FuzzOp::Die { .. } => {
                if self.alive().count() > 1 {
                    self.destroy(caller);
                }
            }
        }
    }

    /// One hypercall invocation; a preempted one is remembered for
    /// [`FuzzOp::Resume`] (other steps may run in between, as upcalls and
    /// other domains do).
    fn call(&mut self, caller: DomId, number: u32, args: [u64; 5], report: &mut StepReport) {
        let Some((completion, _)) = call_as(
            &mut self.domains,
            &mut self.frames,
            &mut self.frame,
            &mut self.platform,
            caller,
            number,
            args,
        ) else {
            return;
        };
        report.invocations += 1;
        report.max_reads = report.max_reads.max(self.platform.memory.take_reads());
        if let Completion::Continue(next) = completion {
            self.pending[slot_of(caller)] = Some((number, next));
        }
    }

    /// A page-table batch of `count` requests (`list`), with `*done` at
    /// the end of the argument page.
    fn batch(&mut self, caller: DomId, number: u32, list: &[u8], count: usize, report: &mut StepReport) {
        let (arg, ..) = self.layout[slot_of(caller)];
        self.put(arg, list);
        let args = [arg, count as u64, arg + 4096 - 8, u64::from(DOMID_SELF), 0];
        self.call(caller, number, args, report);
    }

    fn grant_op<T: IntoBytes + Immutable>(&mut self, caller: DomId, command: u32, op: T, report: &mut StepReport) {
        let (arg, ..) = self.layout[slot_of(caller)];
        self.put(arg, op.as_bytes());
        self.call(caller, nr::GRANT_TABLE_OP, [u64::from(command), arg, 1, 0, 0], report);
    }

    fn event_op<T: IntoBytes + Immutable>(&mut self, caller: DomId, command: u32, op: T, report: &mut StepReport) {
        let (arg, ..) = self.layout[slot_of(caller)];
        self.put(arg, op.as_bytes());
        self.call(caller, nr::EVENT_CHANNEL_OP, [u64::from(command), arg, 0, 0, 0], report);
    }

    /// The guest writes its arguments (it may have unmapped the page: then
    /// the hypercall finds garbage or faults, as it would).
    fn put(&mut self, address: u64, bytes: &[u8]) {
        let _ = self.platform.guest.write(address, bytes);
    }

    /// Resolves a frame choice against the world as it is.
    fn frame_of(&self, caller: DomId, choice: FrameChoice) -> Mfn {
        let index = usize::from(choice.index);
        let pick = |filter: &dyn Fn(Mfn, &FrameInfo) -> bool| {
            let found: std::vec::Vec<Mfn> = (0..self.frames.frame_count())
                .map(Mfn)
                .filter(|&mfn| self.frames.frame(mfn).is_some_and(|info| filter(mfn, info)))
                .collect();
            found.get(index % found.len().max(1)).copied().unwrap_or(Mfn(0))
        };
        let mine = |info: &FrameInfo| info.owner() == Some(caller);
        let other = DOMUS[(slot_of(caller) + 1 + index % 2) % 3];
        let base = base_of(&self.domains, caller);
        match choice.kind {
            0 => base.unwrap_or(Mfn(0)),
            1 => pick(&|_, info| mine(info) && info.table_level().is_some()),
            2 => pick(&|_, info| mine(info) && info.page_type() == PageType::Writable),
            3 => pick(&|_, info| mine(info) && info.page_type() == PageType::None),
            4 => pick(&|_, info| info.owner() == Some(other) && info.table_level().is_some()),
            5 => pick(&|_, info| info.owner() == Some(other)),
            6 => pick(&|_, info| info.is_free()),
            7 => Mfn(MACHINE_FRAMES - 1 + (index % 3) as u64),
            8 => Mfn(1 << (32 + index % 8)),
            9 => Mfn(u64::MAX >> (index % 13)),
            // Another L4 of the caller's: somewhere to switch to.
            _ => pick(&|mfn, info| mine(info) && info.page_type() == PageType::L4 && Some(mfn) != base),
        }
    }

    /// Resolves an entry choice.
    fn entry_of(&self, caller: DomId, choice: EntryChoice) -> u64 {
        const FLAGS: [u64; 8] = [RW, USER, ACCESSED | DIRTY, PSE, GLOBAL, GNTTAB, NX, 1 << 9];
        let flags = FLAGS
            .iter()
            .enumerate()
            .filter(|(bit, _)| choice.flags & (1 << bit) != 0)
            .fold(0, |flags, (_, flag)| flags | flag);
        let present = if choice.present { PRESENT } else { 0 };
        self.frame_of(caller, choice.frame).address() | flags | present
    }

    /// Resolves an address choice.
    fn va_of(&self, caller: DomId, choice: VaChoice) -> u64 {
        let (arg, start, end) = self.layout[slot_of(caller)];
        let page = u64::from(choice.page);
        match choice.kind {
            0 | 1 => start + page % ((end - start) / 4096) * 4096,
            2 => arg,
            3 => end + page % 4 * 4096,
            4 => HYPERVISOR_VIRT_START + page * 4096,
            5 => 0x8000_0000_0000_0000 | page,
            6 => page,
            _ => u64::MAX - page % 16,
        }
    }

    /// Resolves an `mmuext_op` choice.
    fn ext_of(&self, caller: DomId, choice: ExtChoice) -> MmuextOp {
        const COMMANDS: [u32; 12] = [
            MMUEXT_PIN_L1_TABLE,
            MMUEXT_PIN_L2_TABLE,
            MMUEXT_PIN_L3_TABLE,
            MMUEXT_PIN_L4_TABLE,
            MMUEXT_UNPIN_TABLE,
            MMUEXT_NEW_BASEPTR,
            MMUEXT_CLEAR_PAGE,
            MMUEXT_COPY_PAGE,
            MMUEXT_TLB_FLUSH_LOCAL,
            MMUEXT_INVLPG_LOCAL,
            MMUEXT_NEW_USER_BASEPTR,
            MMUEXT_SET_LDT,
        ];
        let cmd = COMMANDS[usize::from(choice.command) % COMMANDS.len()];
        let arg1 = if cmd == MMUEXT_INVLPG_LOCAL {
            self.va_of(caller, choice.va)
        } else {
            self.frame_of(caller, choice.frame).0
        };
        MmuextOp {
            cmd,
            arg1,
            arg2: self.frame_of(caller, choice.source).0,
            ..MmuextOp::new_zeroed()
        }
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
fn slot_of(id: DomId) -> usize {
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
