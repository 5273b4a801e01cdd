//! How each [`FuzzOp`] becomes hypercalls from the domain it names, with
//! their guest-memory arguments written first.

use super::ops::{FrameChoice, FuzzOp};
use super::world::{DOMUS, StepReport, World, slot_of};
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::hypercall::Completion;
use crate::hypercall::test_domains::call_as;
use std::vec::Vec;
use xen_abi::event_channel::*;
use xen_abi::grant_table::*;
use xen_abi::hypercall as nr;
use xen_abi::mmu::DomId;
use xen_abi::mmu::*;
use xen_abi::multicall::MulticallEntry;
use xen_abi::trap::IretContext;
use xen_abi::vcpu::{
    VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA, VCPUOP_REGISTER_VCPU_INFO, VcpuRegisterRunstateMemoryArea,
    VcpuRegisterVcpuInfo,
};
use zerocopy::{FromZeros, Immutable, IntoBytes};

impl World {
    pub(super) fn run(&mut self, caller: DomId, op: &FuzzOp, report: &mut StepReport) {
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
            FuzzOp::SetGdt { frames, entries, .. } => {
                let list: Vec<u64> = frames.iter().map(|&frame| self.frame_of(caller, frame).0).collect();
                self.put(arg, list.as_bytes());
                self.call(caller, nr::SET_GDT, [arg, u64::from(*entries), 0, 0, 0], report);
            }
            FuzzOp::UpdateDescriptor {
                frame,
                offset,
                descriptor,
                ..
            } => {
                let address = self.frame_of(caller, *frame).address() + u64::from(*offset % 4096);
                self.call(caller, nr::UPDATE_DESCRIPTOR, [address, *descriptor, 0, 0, 0], report);
            }
            FuzzOp::DebugReg { register, value, .. } => {
                let args = [u64::from(*register), self.va_of(caller, *value), 0, 0, 0];
                self.call(caller, nr::SET_DEBUGREG, args, report);
            }
            FuzzOp::VcpuAreas {
                frame,
                offset,
                runstate,
                ..
            } => {
                let info = VcpuRegisterVcpuInfo {
                    mfn: self.frame_of(caller, *frame).0,
                    offset: u32::from(*offset),
                    rsvd: 0,
                };
                self.put(arg, info.as_bytes());
                let args = [u64::from(VCPUOP_REGISTER_VCPU_INFO), 0, arg, 0, 0];
                self.call(caller, nr::VCPU_OP, args, report);
                let area = VcpuRegisterRunstateMemoryArea {
                    addr: self.va_of(caller, *runstate),
                };
                self.put(arg, area.as_bytes());
                let args = [u64::from(VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA), 0, arg, 0, 0];
                self.call(caller, nr::VCPU_OP, args, report);
            }
            FuzzOp::GrantSetup { frames, other, .. } => {
                let dom = if *other {
                    DOMUS[(slot_of(caller) + 1) % 3]
                } else {
                    xen_abi::mmu::DOMID_SELF
                };
                let setup = xen_abi::grant_table::GnttabSetupTable {
                    dom,
                    nr_frames: u32::from(*frames),
                    frame_list: arg + 1024,
                    ..Default::default()
                };
                self.put(arg, setup.as_bytes());
                let command = u64::from(xen_abi::grant_table::GNTTABOP_SETUP_TABLE);
                self.call(caller, nr::GRANT_TABLE_OP, [command, arg, 1, 0, 0], report);
            }
            FuzzOp::VmAssist { kind, enable, .. } => {
                let args = [u64::from(!*enable), u64::from(*kind), 0, 0, 0];
                self.call(caller, nr::VM_ASSIST, args, report);
            }
            FuzzOp::PageTableWrite { va, value, .. } => {
                // `mov %rax, (%rdi)` in the argument page, storing the entry.
                self.put(arg, &[0x48, 0x89, 0x07]);
                let address = self.va_of(caller, *va);
                self.frame.rip = arg;
                self.frame.rax = self.entry_of(caller, *value);
                if let Some(domain) = self.domains.get(caller) {
                    crate::domain::writable_page_tables::emulate_page_table_write(
                        domain,
                        &mut self.frame,
                        &mut self.platform,
                        &mut self.frames,
                        address,
                        0b011,
                    );
                }
                report.invocations += 1;
            }
            FuzzOp::Reservation {
                kind,
                frames,
                order,
                bits,
                ..
            } => self.reservation(caller, *kind, frames, u32::from(*order), u32::from(*bits), report),
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
    pub(super) fn call(&mut self, caller: DomId, number: u32, args: [u64; 5], report: &mut StepReport) {
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

    /// A `memory_op` reservation call (see [`FuzzOp::Reservation`]): its
    /// frame list at the start of the argument page, its struct after it.
    fn reservation(
        &mut self,
        caller: DomId,
        kind: u8,
        choices: &[FrameChoice],
        order: u32,
        bits: u32,
        report: &mut StepReport,
    ) {
        use xen_abi::memory::*;
        let (arg, ..) = self.layout[slot_of(caller)];
        let list: Vec<u64> = choices
            .iter()
            .map(|&choice| match kind {
                0 => u64::from(choice.index),
                _ => self.frame_of(caller, choice).0,
            })
            .collect();
        self.put(arg, list.as_bytes());
        let reservation = |extent_start, nr_extents, extent_order| XenMemoryReservation {
            extent_start,
            nr_extents,
            extent_order,
            mem_flags: bits,
            domid: DOMID_SELF,
            _pad0: [0; 3],
        };
        let request = arg + 1024;
        let command = match kind {
            0 => XENMEM_POPULATE_PHYSMAP,
            1 => XENMEM_DECREASE_RESERVATION,
            2 => XENMEM_INCREASE_RESERVATION,
            3 => XENMEM_EXCHANGE,
            _ => XENMEM_MACHPHYS_MFN_LIST,
        };
        if command == XENMEM_MACHPHYS_MFN_LIST {
            let list = XenMachphysMfnList {
                max_extents: choices.len() as u32,
                extent_start: arg,
                ..Default::default()
            };
            self.put(request, list.as_bytes());
        } else if command == XENMEM_EXCHANGE {
            let count = list.len() as u64;
            let out_order = order + count.next_power_of_two().trailing_zeros();
            let out_list = arg + 512;
            self.put(out_list, &u64::from(choices[0].index).to_le_bytes());
            let exchange = XenMemoryExchange {
                input: reservation(arg, count.next_power_of_two(), order),
                output: reservation(out_list, 1, out_order),
                nr_exchanged: 0,
            };
            self.put(request, exchange.as_bytes());
        } else {
            self.put(request, reservation(arg, list.len() as u64, order).as_bytes());
        }
        self.call(caller, nr::MEMORY_OP, [u64::from(command), request, 0, 0, 0], report);
    }

    /// A page-table batch of `count` requests (`list`), with `*done` at
    /// the end of the argument page.
    pub(super) fn batch(&mut self, caller: DomId, number: u32, list: &[u8], count: usize, report: &mut StepReport) {
        let (arg, ..) = self.layout[slot_of(caller)];
        self.put(arg, list);
        let args = [arg, count as u64, arg + 4096 - 8, u64::from(DOMID_SELF), 0];
        self.call(caller, number, args, report);
    }

    pub(super) fn grant_op<T: IntoBytes + Immutable>(
        &mut self,
        caller: DomId,
        command: u32,
        op: T,
        report: &mut StepReport,
    ) {
        let (arg, ..) = self.layout[slot_of(caller)];
        self.put(arg, op.as_bytes());
        self.call(caller, nr::GRANT_TABLE_OP, [u64::from(command), arg, 1, 0, 0], report);
    }

    pub(super) fn event_op<T: IntoBytes + Immutable>(
        &mut self,
        caller: DomId,
        command: u32,
        op: T,
        report: &mut StepReport,
    ) {
        let (arg, ..) = self.layout[slot_of(caller)];
        self.put(arg, op.as_bytes());
        self.call(caller, nr::EVENT_CHANNEL_OP, [u64::from(command), arg, 0, 0, 0], report);
    }

    /// The guest writes its arguments (it may have unmapped the page: then
    /// the hypercall finds garbage or faults, as it would).
    pub(super) fn put(&mut self, address: u64, bytes: &[u8]) {
        let _ = self.platform.guest.write(address, bytes);
    }
}
