//! What a hostile guest does in one fuzzer step, and the choices it is
//! made of. Choices are small numbers resolved against the world as it is
//! when the step runs (`world.rs`), so that random sequences keep aiming
//! at the interesting frames, entries and addresses as the world changes.

use proptest::collection::vec;
use proptest::prelude::*;
use std::vec;
use std::vec::Vec;

/// Which frame an argument names.
#[derive(Clone, Copy, Debug)]
pub struct FrameChoice {
    /// The kind: the caller's current L4, its tables, its data, its spares,
    /// another domain's tables or data, a free frame, the frame-table end,
    /// far beyond it, another L4 of the caller's.
    pub kind: u8,
    /// Which one of that kind.
    pub index: u16,
}

/// A page-table entry value.
#[derive(Clone, Copy, Debug)]
pub struct EntryChoice {
    /// The frame it names.
    pub frame: FrameChoice,
    /// Flag bits, from a list of the interesting ones.
    pub flags: u8,
    /// Present or not (a non-present entry keeps the address bits).
    pub present: bool,
}

/// A guest virtual address.
#[derive(Clone, Copy, Debug)]
pub struct VaChoice {
    /// The kind: a page of the caller's mapped region, its argument page,
    /// the hypervisor's range, non-canonical, zero, the top of memory.
    pub kind: u8,
    /// Which page, for a page of the region.
    pub page: u16,
}

/// One `mmuext_op` request.
#[derive(Clone, Copy, Debug)]
pub struct ExtChoice {
    /// Index into the commands the fuzzer uses.
    pub command: u8,
    /// The frame (or address) argument.
    pub frame: FrameChoice,
    /// The second frame (COPY_PAGE's source).
    pub source: FrameChoice,
    /// For INVLPG: the address.
    pub va: VaChoice,
}

/// One step.
#[derive(Clone, Debug)]
pub enum FuzzOp {
    /// `mmu_update` of (table frame, slot, command bits, value) requests.
    MmuUpdate {
        caller: u8,
        requests: Vec<(FrameChoice, u16, u8, EntryChoice)>,
    },
    /// `mmuext_op` of these requests.
    Mmuext { caller: u8, ops: Vec<ExtChoice> },
    /// `update_va_mapping(va, value, flags)`.
    UpdateVa {
        caller: u8,
        va: VaChoice,
        value: EntryChoice,
        flags: u8,
    },
    /// The guest writes a word through its own translations.
    GuestWrite { caller: u8, va: VaChoice, value: u64 },
    /// The granter writes grant entry `gref` for `grantee`.
    GrantWrite {
        caller: u8,
        gref: u16,
        flags: u16,
        grantee: u8,
        frame: FrameChoice,
    },
    /// `map_grant_ref` of another domain's entry at `va`.
    GrantMap {
        caller: u8,
        granter: u8,
        gref: u16,
        flags: u8,
        va: VaChoice,
    },
    /// `unmap_grant_ref` of a handle at `va`.
    GrantUnmap { caller: u8, handle: u8, va: VaChoice },
    /// `gnttab_copy` from a grant into one of the caller's frames.
    GrantCopy {
        caller: u8,
        granter: u8,
        gref: u16,
        offset: u16,
        len: u16,
        to: FrameChoice,
        to_granter: bool,
    },
    /// An event channel operation towards `peer`.
    Event { caller: u8, kind: u8, peer: u8, port: u16 },
    /// A multicall of `update_va_mapping`s and one-request `mmuext_op`s.
    Multicall {
        caller: u8,
        entries: Vec<(bool, VaChoice, EntryChoice, ExtChoice)>,
    },
    /// What a guest does before it switches address spaces (a fork, a new
    /// process): copies its current L4 into a spare frame and pins the copy.
    CloneBase { caller: u8, spare: u16 },
    /// `set_segment_base(which, base)`.
    SegmentBase { caller: u8, which: u8, base: VaChoice },
    /// `stack_switch(ss, sp)`.
    StackSwitch { caller: u8, ss: u16, sp: VaChoice },
    /// `iret` through a frame the guest wrote at its stack pointer.
    Iret {
        caller: u8,
        rip: VaChoice,
        cs: u16,
        rflags: u64,
        flags: u64,
    },
    /// `set_gdt` of these frames, with `entries` entries.
    SetGdt {
        caller: u8,
        frames: Vec<FrameChoice>,
        entries: u16,
    },
    /// `update_descriptor` at byte `offset` of a frame (aligned or not).
    UpdateDescriptor {
        caller: u8,
        frame: FrameChoice,
        offset: u16,
        descriptor: u64,
    },
    /// `set_debugreg(register, value)`.
    DebugReg { caller: u8, register: u8, value: VaChoice },
    /// `VCPUOP_register_vcpu_info` into a frame, then
    /// `VCPUOP_register_runstate_memory_area` at an address.
    VcpuAreas {
        caller: u8,
        frame: FrameChoice,
        offset: u16,
        runstate: VaChoice,
    },
    /// `vm_assist(enable or disable, type)`.
    VmAssist { caller: u8, kind: u8, enable: bool },
    /// A plain store of an entry value at an address (the write fault the
    /// CPU raises, handed to the writable-page-table emulation).
    PageTableWrite {
        caller: u8,
        va: VaChoice,
        value: EntryChoice,
    },
    /// A `memory_op` reservation call: `kind` 0 populate (at
    /// pseudo-physical numbers from `frames`' indexes), 1 decrease, 2
    /// increase, 3 exchange (`frames` for one extent of their total size), 4
    /// machphys_mfn_list (room for as many runs as `frames`),
    /// with extents of `2^order` and an address-width limit `bits`.
    Reservation {
        caller: u8,
        kind: u8,
        frames: Vec<FrameChoice>,
        order: u8,
        bits: u8,
    },
    /// `grant_table_op(setup_table)` for `frames` frames of the caller's
    /// table (or another domain's, refused), growing it from the free pool.
    GrantSetup { caller: u8, frames: u8, other: bool },
    /// Re-runs the caller's preempted hypercall, if it has one.
    Resume { caller: u8 },
    /// The domain dies (crash or shutdown) and is destroyed.
    Die { domain: u8 },
}

fn frame() -> impl Strategy<Value = FrameChoice> {
    // Aimed at the caller's own base and spare frames, where new tables and
    // base switches are made, more than at the rest.
    let kind = prop_oneof![3 => Just(0u8), 2 => Just(1), 1 => Just(2), 3 => Just(3), 1 => Just(4), 1 => Just(5),
        1 => Just(6), 1 => 7u8..10, 2 => Just(10)];
    (kind, any::<u16>()).prop_map(|(kind, index)| FrameChoice { kind, index })
}

fn entry() -> impl Strategy<Value = EntryChoice> {
    (frame(), any::<u8>(), prop::bool::weighted(0.8)).prop_map(|(frame, flags, present)| EntryChoice {
        frame,
        flags,
        present,
    })
}

fn va() -> impl Strategy<Value = VaChoice> {
    (0u8..8, any::<u16>()).prop_map(|(kind, page)| VaChoice { kind, page })
}

fn ext() -> impl Strategy<Value = ExtChoice> {
    // Pins, unpins, base switches and page operations (0-7) more than
    // flushes and the rest.
    let command = prop_oneof![4 => 0u8..8, 1 => 8u8..12];
    (command, frame(), frame(), va()).prop_map(|(command, frame, source, va)| ExtChoice {
        command,
        frame,
        source,
        va,
    })
}

fn descriptor() -> impl Strategy<Value = u64> {
    // Ring-0 code and data, a TSS, an LDT, call gates to a guest selector
    // and to the hypervisor's code, and anything at all.
    prop_oneof![
        Just(0x00af_9b00_0000_ffff_u64),
        Just(0x00cf_9300_0000_ffff),
        Just(0x0000_8900_0000_0067),
        Just(0x0000_8200_0000_0fff),
        Just(0x0000_ec00_0010_1000),
        Just(0x0000_ec00_e008_1000),
        any::<u64>(),
    ]
}

/// Any step, weighted towards the page-table operations.
pub fn fuzz_op() -> impl Strategy<Value = FuzzOp> {
    let caller = 0u8..3;
    prop_oneof![
        4 => (caller.clone(), vec((frame(), any::<u16>(), 0u8..4, entry()), 1..4))
            .prop_map(|(caller, requests)| FuzzOp::MmuUpdate { caller, requests }),
        5 => (caller.clone(), vec(ext(), 1..5)).prop_map(|(caller, ops)| FuzzOp::Mmuext { caller, ops }),
        2 => (caller.clone(), va(), entry(), any::<u8>())
            .prop_map(|(caller, va, value, flags)| FuzzOp::UpdateVa { caller, va, value, flags }),
        2 => (caller.clone(), va(), any::<u64>()).prop_map(|(caller, va, value)| FuzzOp::GuestWrite {
            caller,
            va,
            value
        }),
        2 => (caller.clone(), 0u16..8, any::<u16>(), 0u8..4, frame()).prop_map(
            |(caller, gref, flags, grantee, frame)| FuzzOp::GrantWrite { caller, gref, flags, grantee, frame }
        ),
        2 => (caller.clone(), 0u8..4, 0u16..8, any::<u8>(), va())
            .prop_map(|(caller, granter, gref, flags, va)| FuzzOp::GrantMap { caller, granter, gref, flags, va }),
        1 => (caller.clone(), 0u8..8, va()).prop_map(|(caller, handle, va)| FuzzOp::GrantUnmap { caller, handle, va }),
        1 => (caller.clone(), 0u8..4, 0u16..8, any::<u16>(), any::<u16>(), frame(), any::<bool>()).prop_map(
            |(caller, granter, gref, offset, len, to, to_granter)| FuzzOp::GrantCopy {
                caller,
                granter,
                gref,
                offset,
                len,
                to,
                to_granter
            }
        ),
        2 => (caller.clone(), 0u8..5, 0u8..4, 0u16..8)
            .prop_map(|(caller, kind, peer, port)| FuzzOp::Event { caller, kind, peer, port }),
        1 => (caller.clone(), vec((any::<bool>(), va(), entry(), ext()), 1..4))
            .prop_map(|(caller, entries)| FuzzOp::Multicall { caller, entries }),
        1 => (caller.clone(), any::<u16>()).prop_map(|(caller, spare)| FuzzOp::CloneBase { caller, spare }),
        1 => (caller.clone(), 0u8..5, va()).prop_map(|(caller, which, base)| FuzzOp::SegmentBase { caller, which, base }),
        1 => (caller.clone(), any::<u16>(), va()).prop_map(|(caller, ss, sp)| FuzzOp::StackSwitch { caller, ss, sp }),
        1 => (caller.clone(), va(), any::<u16>(), any::<u64>(), any::<u64>())
            .prop_map(|(caller, rip, cs, rflags, flags)| FuzzOp::Iret { caller, rip, cs, rflags, flags }),
        1 => (caller.clone(), vec(frame(), 0..3), any::<u16>())
            .prop_map(|(caller, frames, entries)| FuzzOp::SetGdt { caller, frames, entries }),
        1 => (caller.clone(), frame(), any::<u16>(), descriptor()).prop_map(|(caller, frame, offset, descriptor)| {
            FuzzOp::UpdateDescriptor { caller, frame, offset, descriptor }
        }),
        1 => (caller.clone(), 0u8..10, va()).prop_map(|(caller, register, value)| FuzzOp::DebugReg {
            caller,
            register,
            value
        }),
        1 => (caller.clone(), frame(), any::<u16>(), va())
            .prop_map(|(caller, frame, offset, runstate)| FuzzOp::VcpuAreas { caller, frame, offset, runstate }),
        1 => (caller.clone(), 0u8..40, any::<bool>()).prop_map(|(caller, kind, enable)| FuzzOp::VmAssist {
            caller,
            kind,
            enable
        }),
        2 => (caller.clone(), va(), entry()).prop_map(|(caller, va, value)| FuzzOp::PageTableWrite { caller, va, value }),
        2 => (caller.clone(), 0u8..5, vec(frame(), 1..5), prop_oneof![4 => Just(0u8), 1 => 0u8..12], prop_oneof![
            3 => Just(0u8),
            1 => 0u8..40
        ])
        .prop_map(|(caller, kind, frames, order, bits)| FuzzOp::Reservation {
            caller,
            kind,
            frames,
            order,
            bits
        }),
        1 => (caller.clone(), prop_oneof![3 => 0u8..8, 1 => 0u8..70], any::<bool>()).prop_map(
            |(caller, frames, other)| FuzzOp::GrantSetup { caller, frames, other }
        ),
        2 => caller.clone().prop_map(|caller| FuzzOp::Resume { caller }),
        1 => (0u8..24).prop_map(|domain| FuzzOp::Die { domain }),
    ]
}
