//! Test support for grant tables through the hypercall table: two domains
//! the builder made (d1 grants, d2 maps and copies) and dom0, on one fake
//! machine, with the operations each side performs.

use super::test_domains::{Domains, build_domain_in, machine_with_pool};
use super::*;
use crate::arch::PhysicalMemory;
use crate::mm::Mfn;
use crate::mm::pte_rules::{entry_address, entry_mfn};
use xen_abi::grant_table::*;
use xen_abi::hypercall as nr;
use xen_abi::mmu::DOMID_SELF;
use xen_abi::mmu::DomId;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Where frame lists are written.
pub(super) const LIST: u64 = 0x11_0000;
/// The domain that grants.
pub(super) const GRANTER: DomId = 1;
/// The domain that maps.
pub(super) const MAPPER: DomId = 2;
/// Pages each built domain has.
const PAGES: u64 = 1024;

/// Two built domains that grant and map, and where the mapper maps.
pub(super) struct World {
    /// Boxed: the domain table is 258 KiB, and a debug build copies it on
    /// the stack at every move of the world.
    pub(super) d: std::boxed::Box<Domains>,
    /// Where the mapper maps grants: its last page (an ordinary mapping
    /// that the grant replaces).
    pub(super) map_va: u64,
}

/// The free pool: frames `POOL..POOL + POOL_FRAMES`.
pub(super) const POOL: u64 = 0x100 + 2 * 4096;
/// Enough for one table to grow to its maximum, and a few more.
pub(super) const POOL_FRAMES: u64 = 72;

pub(super) fn world() -> World {
    // Free frames after the two domains', for tables that grow.
    let (mut platform, mut frames, mut table) = machine_with_pool(POOL, POOL_FRAMES);
    platform.guest.map(LIST, true);
    let mut map_va = 0;
    for (domid, first) in [(GRANTER, 0x100), (MAPPER, 0x100 + 4096)] {
        let built = build_domain_in(
            &mut platform,
            &mut frames,
            table.vacant(domid).unwrap(),
            PAGES,
            first,
            4096,
        );
        map_va = built.layout.virt_base + (PAGES - 1) * 4096;
    }
    World {
        d: std::boxed::Box::new(Domains {
            table,
            frames,
            frame: TrapFrame::default(),
            platform,
        }),
        map_va,
    }
}

impl World {
    pub(super) fn call(&mut self, caller: DomId, number: u32, args: [u64; 5]) -> i64 {
        self.d.call(caller, number, args).0
    }

    /// `grant_table_op(command, [op])` from `caller`: the result and the op
    /// as the hypervisor left it.
    pub(super) fn op<T: IntoBytes + FromBytes + Immutable + KnownLayout>(
        &mut self,
        caller: DomId,
        command: u32,
        op: T,
    ) -> (i64, T) {
        self.d.op(caller, nr::GRANT_TABLE_OP, command, 1, op)
    }

    /// `caller` sets up `nr_frames` frames of its own table, their numbers
    /// written at LIST; the call's status.
    pub(super) fn setup_frames(&mut self, caller: DomId, nr_frames: u32) -> i16 {
        let (result, op) = self.op(
            caller,
            GNTTABOP_SETUP_TABLE,
            GnttabSetupTable {
                dom: DOMID_SELF,
                nr_frames,
                frame_list: LIST,
                ..Default::default()
            },
        );
        assert_eq!(result, 0, "setup_table reports in its status");
        op.status
    }

    /// Sets up the granter's first grant frame; its number.
    pub(super) fn setup(&mut self) -> Mfn {
        use crate::arch::GuestMemory;
        assert_eq!(self.setup_frames(GRANTER, 1), GNTST_OKAY);
        let mut list = [0u8; 8];
        self.d.platform.guest.read(LIST, &mut list).unwrap();
        Mfn(u64::from_le_bytes(list))
    }

    /// The granter writes entry `gref` of its first grant frame.
    pub(super) fn grant(&mut self, table: Mfn, gref: u32, frame: Mfn, grantee: DomId, flags: GrantFlags) {
        let entry = u64::from(flags.bits()) | u64::from(grantee) << 16 | frame.0 << 32;
        self.d
            .platform
            .memory
            .write_u64(table.address() + u64::from(gref) * 8, entry);
    }

    pub(super) fn entry_flags(&self, table: Mfn, gref: u32) -> GrantFlags {
        GrantFlags::from_bits_retain(self.d.platform.memory.read_u64(table.address() + u64::from(gref) * 8) as u16)
    }

    /// The granter revokes `gref` as guests do: a compare-and-swap of the
    /// whole entry to 0 that fails while READING or WRITING is set.
    pub(super) fn revoke(&mut self, table: Mfn, gref: u32) -> bool {
        let address = table.address() + u64::from(gref) * 8;
        let entry = self.d.platform.memory.read_u64(address);
        let busy = (GrantFlags::READING | GrantFlags::WRITING).bits();
        entry as u16 & busy == 0 && self.d.platform.memory.compare_exchange_u64(address, entry, 0).is_ok()
    }

    /// A frame of the granter's to share (one of its data pages).
    pub(super) fn granter_frame(&self) -> Mfn {
        self.d
            .frames
            .frames()
            .iter()
            .enumerate()
            .rev()
            .find(|(_, info)| info.owner() == Some(GRANTER) && info.page_type() == crate::mm::PageType::Writable)
            .map(|(mfn, _)| Mfn(mfn as u64))
            .unwrap()
    }

    pub(super) fn map(&mut self, gref: u32, dom: DomId, flags: GntmapFlags) -> GnttabMapGrantRef {
        let (result, op) = self.op(
            MAPPER,
            GNTTABOP_MAP_GRANT_REF,
            GnttabMapGrantRef {
                host_addr: self.map_va,
                flags: flags.bits(),
                gref,
                dom,
                ..Default::default()
            },
        );
        assert_eq!(result, 0);
        op
    }

    pub(super) fn unmap(&mut self, handle: u32, host_addr: u64) -> i16 {
        let (result, op) = self.op(
            MAPPER,
            GNTTABOP_UNMAP_GRANT_REF,
            GnttabUnmapGrantRef {
                host_addr,
                handle,
                ..Default::default()
            },
        );
        assert_eq!(result, 0);
        op.status
    }

    /// The mapper's L1 entry for `map_va`.
    pub(super) fn mapper_entry(&self) -> u64 {
        let domain = self.d.table.get(MAPPER).unwrap();
        let mut table = domain.vcpu.kernel_base.as_ref().unwrap().mfn();
        for shift in [39, 30, 21] {
            let entry = self
                .d
                .platform
                .memory
                .read_u64(entry_address(table, ((self.map_va >> shift) & 511) as usize));
            table = entry_mfn(entry);
        }
        self.d
            .platform
            .memory
            .read_u64(entry_address(table, ((self.map_va >> 12) & 511) as usize))
    }

    pub(super) fn copy(&mut self, caller: DomId, copy: GnttabCopy) -> i16 {
        let (result, op) = self.op(caller, GNTTABOP_COPY, copy);
        assert_eq!(result, 0);
        op.status
    }
}

impl Drop for World {
    /// Gives back what the built domains hold (their references must be
    /// put, not dropped).
    fn drop(&mut self) {
        for id in [GRANTER, MAPPER] {
            if let Some(mut domain) = self.d.table.remove(id) {
                domain.release_memory(&mut self.d.frames, &mut self.d.platform.memory, &mut |_| ());
            }
        }
    }
}

pub(super) const HOST_MAP: GntmapFlags = GntmapFlags::HOST_MAP;

/// A world where the granter has set up its table and granted the mapper
/// one of its frames, writable, as entry 8; the table and the frame.
pub(super) fn granted() -> (World, Mfn, Mfn) {
    let mut w = world();
    let table = w.setup();
    let shared = w.granter_frame();
    w.grant(table, 8, shared, MAPPER, GrantFlags::PERMIT_ACCESS);
    (w, table, shared)
}

/// One side of a copy.
pub(super) fn end(u: u64, domid: DomId, offset: u16) -> GnttabCopyPtr {
    GnttabCopyPtr {
        u,
        domid,
        offset,
        ..Default::default()
    }
}

/// A copy of `len` bytes between frames named directly.
pub(super) fn direct_copy(source: GnttabCopyPtr, dest: GnttabCopyPtr, len: u16) -> GnttabCopy {
    GnttabCopy {
        source,
        dest,
        len,
        ..Default::default()
    }
}
