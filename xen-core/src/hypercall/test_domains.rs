//! Test support: several domains calling through the hypercall table on
//! one fake machine, and domains built by the real builder for them.

use super::*;
use crate::arch::GuestMemory;
use crate::arch::fake::{FakeFrames, FakeM2p, FakePlatform};
use crate::domain::boot_layout::BootLayout;
use crate::domain::builder::{BuildRequest, BuiltDomain, build_pv_domain};
use crate::domain::domain_table::{DomainTable, VacantSlot};
use crate::domain::elf_image::ElfImage;
use crate::domain::elf_image::test_elf::ours;
use crate::domain::guest_notes::GuestNotes;
use crate::domain::pv_domain::PvDomain;
use crate::mm::Mfn;
use crate::trap_frame::TrapFrame;
use xen_abi::mmu::DomId;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The argument page, mapped writable in every domain (one fake guest
/// memory serves whichever domain calls).
pub(super) const ARG: u64 = 0x10_0000;

/// Domains in a table, their frames and one fake platform (with [`ARG`]
/// mapped).
pub(super) struct Domains {
    pub table: DomainTable,
    pub frames: FrameTable<'static>,
    pub frame: TrapFrame,
    pub platform: FakePlatform,
}

impl Domains {
    /// Domain `caller` makes hypercall `number`; the result and whether it
    /// asked for a reschedule.
    pub fn call(&mut self, caller: DomId, number: u32, args: [u64; 5]) -> (i64, bool) {
        let called = call_as(
            &mut self.table,
            &mut self.frames,
            &mut self.frame,
            &mut self.platform,
            caller,
            number,
            args,
        );
        match called {
            Some((Completion::Value(value), reschedule)) => (value, reschedule),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Hypercall `number(command, ARG, count)` from `caller` with `op`
    /// written at [`ARG`]: the result and the op as the hypervisor left it.
    pub fn op<T: IntoBytes + FromBytes + Immutable + KnownLayout>(
        &mut self,
        caller: DomId,
        number: u32,
        command: u32,
        count: u64,
        op: T,
    ) -> (i64, T) {
        self.platform.guest.write(ARG, op.as_bytes()).unwrap();
        let (result, _) = self.call(caller, number, [u64::from(command), ARG, count, 0, 0]);
        let mut bytes = std::vec![0; size_of::<T>()];
        self.platform.guest.read(ARG, &mut bytes).unwrap();
        (result, T::read_from_bytes(&bytes).unwrap())
    }
}

/// An empty machine for domains to be built in: a frame table of frames
/// `0..pool + pool_frames`, frames `pool..` free in the platform's
/// allocator (for reservations and tables that grow), [`ARG`] mapped, and
/// dom0 in the table, not built.
pub(super) fn machine_with_pool(pool: u64, pool_frames: u64) -> (FakePlatform, FrameTable<'static>, DomainTable) {
    let mut platform = FakePlatform::default();
    platform.guest.map(ARG, true);
    let end = pool + pool_frames;
    platform
        .frames
        .add_free_range(crate::mm::PhysRange::new(pool * 4096, end * 4096));
    let storage = std::vec![crate::mm::FrameInfo::FREE; end as usize].leak();
    let frames = FrameTable::new(storage, [0; crate::mm::pte_rules::HYPERVISOR_L4_SLOTS]);
    let mut table = DomainTable::new();
    assert!(table.create(0, "dom0", Mfn(0x80), 1).is_some());
    (platform, frames, table)
}

/// Domain `caller` of `table` makes hypercall `number` through the table:
/// how it completed and whether it asked for a reschedule; `None` if there
/// is no such domain.
pub(super) fn call_as(
    table: &mut DomainTable,
    frames: &mut FrameTable<'static>,
    frame: &mut TrapFrame,
    platform: &mut FakePlatform,
    caller: DomId,
    number: u32,
    args: [u64; 5],
) -> Option<(Completion, bool)> {
    let (domain, others) = table.split(caller)?;
    let mut context = HypercallContext {
        domain,
        others,
        frames,
        frame,
        platform,
        in_multicall: false,
        reschedule: false,
    };
    let completion = dispatch(&mut context, u64::from(number), args);
    Some((completion, context.reschedule))
}

/// Builds the test ELF as an unprivileged domain of `nr_pages` in `slot`,
/// taking frames `first..first + count`.
pub(crate) fn build_domain_in<'t>(
    platform: &mut FakePlatform,
    frames: &mut FrameTable<'static>,
    slot: VacantSlot<'t>,
    nr_pages: u64,
    first: u64,
    count: u64,
) -> BuiltDomain<'t> {
    let bytes = ours().build();
    let image = ElfImage::parse(&bytes).unwrap();
    let notes = GuestNotes::from_image(&image).unwrap();
    let request = BuildRequest {
        image: &image,
        notes: &notes,
        name: "d",
        nr_pages,
        cmdline: "",
        module: &[],
        hypervisor_l4: Mfn(0x10),
    };
    let mut source = FakeFrames {
        next: first,
        end: first + count,
    };
    build_pv_domain(
        &request,
        slot,
        &mut platform.memory,
        &mut source,
        frames,
        &mut FakeM2p::default(),
    )
    .unwrap()
}

/// A domain built on its own, outside any table, for tests of one caller.
pub(crate) struct LoneDomain {
    /// The domain (moved out of the table it was built in: tests only).
    pub domain: PvDomain,
    /// Registers at its first instruction.
    pub frame: TrapFrame,
    /// Its L4.
    pub l4: Mfn,
    /// Where the builder put everything.
    pub layout: BootLayout,
}

/// Builds the test ELF as unprivileged domain `domid`, alone
/// ([`build_domain_in`]).
pub(crate) fn build_domain(
    platform: &mut FakePlatform,
    frames: &mut FrameTable<'static>,
    domid: DomId,
    nr_pages: u64,
    first: u64,
    count: u64,
) -> LoneDomain {
    let mut table = std::boxed::Box::new(DomainTable::new());
    let slot = table.vacant(domid).unwrap();
    let built = build_domain_in(platform, frames, slot, nr_pages, first, count);
    let (frame, l4, layout) = (built.frame, built.l4, built.layout);
    LoneDomain {
        domain: table.remove(domid).unwrap(),
        frame,
        l4,
        layout,
    }
}

/// The machine address of the L1 entry that maps `va` in the tree under `l4`
/// (which must map it).
pub(super) fn l1_entry_address(memory: &impl crate::arch::PhysicalMemory, l4: Mfn, va: u64) -> u64 {
    use crate::mm::pte_rules::{entry_address, entry_mfn};
    let mut table = l4;
    for shift in [39, 30, 21] {
        table = entry_mfn(memory.read_u64(entry_address(table, ((va >> shift) & 511) as usize)));
    }
    entry_address(table, ((va >> 12) & 511) as usize)
}
