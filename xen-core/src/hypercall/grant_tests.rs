//! Grant tables through the hypercall table: two domains the builder made
//! (d1 grants, d2 maps and copies) and dom0, on one fake machine.

use super::test_domains::{ARG, Domains, build_domain_in};
use super::*;
use crate::arch::PhysicalMemory;
use crate::arch::fake::FakePlatform;
use crate::domain::domain_death::destroy_domain;
use crate::domain::domain_table::DomainTable;
use crate::mm::pte_rules::{GNTTAB, HYPERVISOR_L4_SLOTS, RW, entry_address, entry_mfn};
use crate::mm::{FrameInfo, Mfn};
use xen_abi::errno::Errno;
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
    pub d: std::boxed::Box<Domains>,
    /// Where the mapper maps grants: its last page (an ordinary mapping
    /// that the grant replaces).
    pub map_va: u64,
}

fn world() -> World {
    let mut platform = FakePlatform::default();
    platform.guest.map(ARG, true);
    platform.guest.map(LIST, true);
    let storage = std::vec![FrameInfo::FREE; 0x100 + 2 * 4096].leak();
    let mut frames = FrameTable::new(storage, [0; HYPERVISOR_L4_SLOTS]);
    let mut table = DomainTable::new();
    assert!(table.create(0, "dom0", Mfn(0x80), 1).is_some());
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
    fn call(&mut self, caller: DomId, number: u32, args: [u64; 5]) -> i64 {
        self.d.call(caller, number, args).0
    }

    /// `grant_table_op(command, [op])` from `caller`: the result and the op
    /// as the hypervisor left it.
    fn op<T: IntoBytes + FromBytes + Immutable + KnownLayout>(
        &mut self,
        caller: DomId,
        command: u32,
        op: T,
    ) -> (i64, T) {
        self.d.op(caller, nr::GRANT_TABLE_OP, command, 1, op)
    }

    /// Sets up the granter's first grant frame; its number.
    fn setup(&mut self) -> Mfn {
        use crate::arch::GuestMemory;
        let (result, op) = self.op(
            GRANTER,
            GNTTABOP_SETUP_TABLE,
            GnttabSetupTable {
                dom: DOMID_SELF,
                nr_frames: 1,
                frame_list: LIST,
                ..Default::default()
            },
        );
        assert_eq!((result, op.status), (0, GNTST_OKAY));
        let mut list = [0u8; 8];
        self.d.platform.guest.read(LIST, &mut list).unwrap();
        Mfn(u64::from_le_bytes(list))
    }

    /// The granter writes entry `gref` of its first grant frame.
    fn grant(&mut self, table: Mfn, gref: u32, frame: Mfn, grantee: DomId, flags: GrantFlags) {
        let entry = u64::from(flags.bits()) | u64::from(grantee) << 16 | frame.0 << 32;
        self.d
            .platform
            .memory
            .write_u64(table.address() + u64::from(gref) * 8, entry);
    }

    fn entry_flags(&self, table: Mfn, gref: u32) -> GrantFlags {
        GrantFlags::from_bits_retain(self.d.platform.memory.read_u64(table.address() + u64::from(gref) * 8) as u16)
    }

    /// The granter revokes `gref` as guests do: a compare-and-swap of the
    /// whole entry to 0 that fails while READING or WRITING is set.
    fn revoke(&mut self, table: Mfn, gref: u32) -> bool {
        let address = table.address() + u64::from(gref) * 8;
        let entry = self.d.platform.memory.read_u64(address);
        let busy = (GrantFlags::READING | GrantFlags::WRITING).bits();
        entry as u16 & busy == 0 && self.d.platform.memory.compare_exchange_u64(address, entry, 0).is_ok()
    }

    /// A frame of the granter's to share (one of its data pages).
    fn granter_frame(&self) -> Mfn {
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

    pub fn map(&mut self, gref: u32, dom: DomId, flags: GntmapFlags) -> GnttabMapGrantRef {
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

    fn unmap(&mut self, handle: u32, host_addr: u64) -> i16 {
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
    fn mapper_entry(&self) -> u64 {
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

    fn copy(&mut self, caller: DomId, copy: GnttabCopy) -> i16 {
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

const HOST_MAP: GntmapFlags = GntmapFlags::HOST_MAP;

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
fn end(u: u64, domid: DomId, offset: u16) -> GnttabCopyPtr {
    GnttabCopyPtr {
        u,
        domid,
        offset,
        ..Default::default()
    }
}

/// A copy of `len` bytes between frames named directly.
fn direct_copy(source: GnttabCopyPtr, dest: GnttabCopyPtr, len: u16) -> GnttabCopy {
    GnttabCopy {
        source,
        dest,
        len,
        ..Default::default()
    }
}

#[test]
fn setup_and_query_report_the_granters_frames() {
    let mut w = world();
    let (result, query) = w.op(
        GRANTER,
        GNTTABOP_QUERY_SIZE,
        GnttabQuerySize {
            dom: DOMID_SELF,
            ..Default::default()
        },
    );
    // One frame is in use from the start: the builder granted the rings
    // to dom0 in it.
    assert_eq!(
        (result, query.nr_frames, query.max_nr_frames, query.status),
        (0, 1, 4, GNTST_OKAY)
    );
    let table = w.setup();
    assert_eq!(w.d.frames.frame(table).unwrap().owner(), Some(GRANTER));
    let (_, query) = w.op(
        GRANTER,
        GNTTABOP_QUERY_SIZE,
        GnttabQuerySize {
            dom: DOMID_SELF,
            ..Default::default()
        },
    );
    assert_eq!(query.nr_frames, 1);
    // Too many frames; another domain's table without privilege.
    let (_, op) = w.op(
        GRANTER,
        GNTTABOP_SETUP_TABLE,
        GnttabSetupTable {
            dom: DOMID_SELF,
            nr_frames: 5,
            frame_list: LIST,
            ..Default::default()
        },
    );
    assert_eq!(op.status, GNTST_GENERAL_ERROR);
    let (_, op) = w.op(
        MAPPER,
        GNTTABOP_QUERY_SIZE,
        GnttabQuerySize {
            dom: GRANTER,
            ..Default::default()
        },
    );
    assert_eq!(op.status, GNTST_PERMISSION_DENIED);
    let (_, op) = w.op(
        0,
        GNTTABOP_QUERY_SIZE,
        GnttabQuerySize {
            dom: GRANTER,
            ..Default::default()
        },
    );
    assert_eq!((op.status, op.nr_frames), (GNTST_OKAY, 1), "dom0 may ask about anyone");
    let (_, op) = w.op(
        0,
        GNTTABOP_QUERY_SIZE,
        GnttabQuerySize {
            dom: 7,
            ..Default::default()
        },
    );
    assert_eq!(op.status, GNTST_BAD_DOMAIN);
    // count must be 1.
    assert_eq!(
        w.call(
            GRANTER,
            nr::GRANT_TABLE_OP,
            [u64::from(GNTTABOP_QUERY_SIZE), ARG, 2, 0, 0]
        ),
        Errno::EINVAL.as_return()
    );
}

#[test]
fn a_mapped_grant_cannot_be_revoked_until_it_is_unmapped() {
    let (mut w, table, shared) = granted();
    let op = w.map(8, GRANTER, HOST_MAP);
    assert_eq!(op.status, GNTST_OKAY);
    let entry = w.mapper_entry();
    assert_eq!(entry_mfn(entry), shared);
    assert_ne!(entry & GNTTAB, 0);
    assert_ne!(entry & RW, 0);
    assert!(
        w.entry_flags(table, 8)
            .contains(GrantFlags::READING | GrantFlags::WRITING)
    );
    assert!(!w.revoke(table, 8), "revoking a grant in use fails");
    // The mapper reads what the granter wrote, through the mapping's frame.
    w.d.platform.memory.write_u64(shared.address(), 0x5a5a);
    assert_eq!(
        w.d.platform.memory.read_u64(entry_mfn(w.mapper_entry()).address()),
        0x5a5a
    );
    assert_eq!(w.unmap(op.handle, w.map_va), GNTST_OKAY);
    assert_eq!(w.mapper_entry(), 0);
    assert_eq!(w.entry_flags(table, 8), GrantFlags::PERMIT_ACCESS);
    assert!(w.revoke(table, 8), "free to revoke once unmapped");
    assert_eq!(w.unmap(op.handle, w.map_va), GNTST_BAD_HANDLE, "the handle is gone");
    w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
}

#[test]
fn read_only_grants_give_read_only_mappings_only() {
    let mut w = world();
    let table = w.setup();
    let shared = w.granter_frame();
    w.grant(
        table,
        9,
        shared,
        MAPPER,
        GrantFlags::PERMIT_ACCESS | GrantFlags::READONLY,
    );
    assert_eq!(
        w.map(9, GRANTER, HOST_MAP).status,
        GNTST_GENERAL_ERROR,
        "writable map of a read-only grant"
    );
    let op = w.map(9, GRANTER, HOST_MAP | GntmapFlags::READONLY);
    assert_eq!(op.status, GNTST_OKAY);
    assert_eq!(w.mapper_entry() & RW, 0, "not writable");
    assert!(w.entry_flags(table, 9).contains(GrantFlags::READING));
    assert!(!w.entry_flags(table, 9).contains(GrantFlags::WRITING));
    assert_eq!(w.unmap(op.handle, w.map_va), GNTST_OKAY);
}

#[test]
fn bad_refs_domains_grantees_and_addresses_are_refused_with_nothing_held() {
    let (mut w, table, shared) = granted();
    w.grant(table, 10, shared, 0, GrantFlags::PERMIT_ACCESS); // for dom0, not the mapper
    w.grant(table, 11, shared, MAPPER, GrantFlags::ACCEPT_TRANSFER);
    let before = *w.d.frames.frame(shared).unwrap();
    assert_eq!(
        w.map(512, GRANTER, HOST_MAP).status,
        GNTST_BAD_GNTREF,
        "beyond the frames set up"
    );
    assert_eq!(w.map(u32::MAX, GRANTER, HOST_MAP).status, GNTST_BAD_GNTREF);
    assert_eq!(w.map(8, 7, HOST_MAP).status, GNTST_BAD_DOMAIN);
    assert_eq!(
        w.map(10, GRANTER, HOST_MAP).status,
        GNTST_GENERAL_ERROR,
        "granted to someone else"
    );
    assert_eq!(
        w.map(11, GRANTER, HOST_MAP).status,
        GNTST_GENERAL_ERROR,
        "not an access grant"
    );
    assert_eq!(
        w.map(12, GRANTER, HOST_MAP).status,
        GNTST_GENERAL_ERROR,
        "an empty entry"
    );
    assert_eq!(w.map(8, GRANTER, GntmapFlags::DEVICE_MAP).status, GNTST_GENERAL_ERROR);
    let va = w.map_va;
    w.map_va = va + 1;
    assert_eq!(
        w.map(8, GRANTER, HOST_MAP).status,
        GNTST_BAD_VIRT_ADDR,
        "not page aligned"
    );
    w.map_va = 0x0000_7000_0000_0000;
    assert_eq!(w.map(8, GRANTER, HOST_MAP).status, GNTST_BAD_VIRT_ADDR, "no L1 there");
    w.map_va = va;
    assert_eq!(*w.d.frames.frame(shared).unwrap(), before, "no reference left behind");
    assert_eq!(w.entry_flags(table, 8), GrantFlags::PERMIT_ACCESS, "no pin left behind");
    // A grant naming a frame the granter does not own (the mapper's own L4).
    let foreign = w.d.table.get(MAPPER).unwrap().vcpu.kernel_base.as_ref().unwrap().mfn();
    w.grant(table, 13, foreign, MAPPER, GrantFlags::PERMIT_ACCESS);
    assert_eq!(w.map(13, GRANTER, HOST_MAP).status, GNTST_GENERAL_ERROR);
    assert_eq!(w.entry_flags(table, 13), GrantFlags::PERMIT_ACCESS, "unpinned again");
    // Unmapping what was never mapped.
    assert_eq!(w.unmap(3, va), GNTST_BAD_HANDLE);
    assert_eq!(w.unmap(u32::MAX, va), GNTST_BAD_HANDLE);
    w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
}

#[test]
fn an_unmap_at_another_address_is_refused_and_the_mapping_stays() {
    let (mut w, _, _) = granted();
    let op = w.map(8, GRANTER, HOST_MAP);
    assert_eq!(w.unmap(op.handle, w.map_va - 4096), GNTST_GENERAL_ERROR);
    assert_ne!(w.mapper_entry() & GNTTAB, 0);
    assert_eq!(w.unmap(op.handle, w.map_va), GNTST_OKAY);
}

#[test]
fn dropping_the_tables_under_a_mapping_crashes_the_mapper() {
    let (mut w, _, _) = granted();
    w.map(8, GRANTER, HOST_MAP);
    // The mapper clears the L2 entry above the mapping's L1 with
    // mmu_update: the L1 goes, and the grant mapping with it.
    let domain = w.d.table.get(MAPPER).unwrap();
    let l4 = domain.vcpu.kernel_base.as_ref().unwrap().mfn();
    let mut tables = [l4; 3];
    let mut current = l4;
    for (level, shift) in [39, 30, 21].into_iter().enumerate() {
        tables[level] = current;
        let entry =
            w.d.platform
                .memory
                .read_u64(entry_address(current, ((w.map_va >> shift) & 511) as usize));
        current = entry_mfn(entry);
    }
    let l2 = tables[2];
    let l2_entry = entry_address(l2, ((w.map_va >> 21) & 511) as usize);
    let update = xen_abi::mmu::MmuUpdate { ptr: l2_entry, val: 0 };
    use crate::arch::GuestMemory;
    w.d.platform.guest.write(ARG, update.as_bytes()).unwrap();
    let _ = w.call(MAPPER, nr::MMU_UPDATE, [ARG, 1, 0, u64::from(DOMID_SELF), 0]);
    assert_eq!(
        w.d.table.get(MAPPER).unwrap().state(),
        crate::domain::pv_domain::DomainState::Crashed
    );
    w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
}

#[test]
fn copy_moves_bytes_by_grant_and_refuses_bad_arguments() {
    let (mut w, table, shared) = granted();
    w.grant(
        table,
        9,
        shared,
        MAPPER,
        GrantFlags::PERMIT_ACCESS | GrantFlags::READONLY,
    );
    // The mapper's own frame: one of its data pages.
    let own = (0..w.d.frames.frame_count())
        .rev()
        .map(Mfn)
        .find(|&mfn| {
            let info = w.d.frames.frame(mfn).unwrap();
            info.owner() == Some(MAPPER) && info.page_type() == crate::mm::PageType::Writable
        })
        .unwrap();
    w.d.platform.memory.write_bytes(own.address() + 100, b"hello, granter");
    let to_grant = |gref: u64, offset: u16, len: u16| GnttabCopy {
        source: end(own.0, DOMID_SELF, 100),
        dest: GnttabCopyPtr {
            u: gref,
            domid: GRANTER,
            offset,
            ..Default::default()
        },
        len,
        flags: GntcopyFlags::DEST_GREF.bits(),
        ..Default::default()
    };
    assert_eq!(w.copy(MAPPER, to_grant(8, 2000, 14)), GNTST_OKAY);
    // `u` is a union: with a grant, only its low 32 bits are the reference.
    assert_eq!(w.copy(MAPPER, to_grant(8 | 0xdead << 32, 2000, 14)), GNTST_OKAY);
    let mut bytes = [0u8; 14];
    w.d.platform.memory.read_bytes(shared.address() + 2000, &mut bytes);
    assert_eq!(&bytes, b"hello, granter");
    assert_eq!(
        w.copy(MAPPER, to_grant(9, 0, 14)),
        GNTST_GENERAL_ERROR,
        "read-only grant as destination"
    );
    assert_eq!(
        w.copy(MAPPER, to_grant(8, 4090, 14)),
        GNTST_BAD_COPY_ARG,
        "crosses the page end"
    );
    assert_eq!(w.copy(MAPPER, to_grant(700, 0, 14)), GNTST_BAD_GNTREF);
    assert_eq!(
        w.copy(0, to_grant(8, 0, 14)),
        GNTST_GENERAL_ERROR,
        "the grant is not dom0's"
    );
    // Direct frames of another domain: only for the privileged.
    let direct = direct_copy(end(shared.0, GRANTER, 2000), end(own.0, DOMID_SELF, 0), 14);
    assert_eq!(w.copy(MAPPER, direct), GNTST_PERMISSION_DENIED);
    // The mapper naming a frame as its own that is not: no copy.
    let lying = direct_copy(end(shared.0, DOMID_SELF, 0), end(own.0, DOMID_SELF, 0), 14);
    assert_eq!(w.copy(MAPPER, lying), GNTST_BAD_PAGE);
    // A page table as destination: never written.
    let l4 = w.d.table.get(MAPPER).unwrap().vcpu.kernel_base.as_ref().unwrap().mfn();
    let into_table = direct_copy(end(own.0, DOMID_SELF, 0), end(l4.0, DOMID_SELF, 0), 8);
    assert_eq!(w.copy(MAPPER, into_table), GNTST_BAD_PAGE);
    w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
}

#[test]
fn a_dying_mapper_gives_its_pins_back() {
    let (mut w, table, _) = granted();
    assert_eq!(w.map(8, GRANTER, HOST_MAP).status, GNTST_OKAY);
    assert!(!w.revoke(table, 8));
    let death = destroy_domain(
        &mut w.d.table,
        &mut w.d.frames,
        &mut w.d.platform.memory,
        MAPPER,
        &mut |_| (),
    )
    .unwrap();
    assert_eq!(death.teardown.still_referenced, 0);
    assert_eq!(
        w.d.frames.take_implicit_grant_unmaps(),
        0,
        "teardown does not blame the next caller"
    );
    assert!(w.revoke(table, 8), "the granter may revoke once the mapper is gone");
    w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
}

#[test]
fn the_maptrack_limit_is_no_device_space_and_versions_are_asked_with_privilege() {
    use crate::grant::maptrack::MAX_MAPTRACK;
    let mut w = world();
    let table = w.setup();
    let shared = w.granter_frame();
    w.grant(
        table,
        8,
        shared,
        MAPPER,
        GrantFlags::PERMIT_ACCESS | GrantFlags::READONLY,
    );
    let base = w.map_va - (MAX_MAPTRACK as u64) * 4096;
    let mut handles = std::vec::Vec::new();
    for index in 0..MAX_MAPTRACK as u64 {
        w.map_va = base + index * 4096;
        let op = w.map(8, GRANTER, HOST_MAP | GntmapFlags::READONLY);
        assert_eq!(op.status, GNTST_OKAY, "mapping {index}");
        handles.push((op.handle, w.map_va));
    }
    w.map_va = base + MAX_MAPTRACK as u64 * 4096;
    assert_eq!(
        w.map(8, GRANTER, HOST_MAP | GntmapFlags::READONLY).status,
        GNTST_NO_DEVICE_SPACE
    );
    for (handle, va) in handles {
        assert_eq!(w.unmap(handle, va), GNTST_OKAY);
    }
    assert_eq!(
        w.entry_flags(table, 8),
        GrantFlags::PERMIT_ACCESS | GrantFlags::READONLY
    );
    // GNTTABOP_get_version: one's own, or anyone's with privilege.
    let get_version = |w: &mut World, caller: DomId, dom: u32| {
        use crate::arch::GuestMemory;
        w.d.platform.guest.write(ARG, [dom, 0u32].as_bytes()).unwrap();
        w.call(
            caller,
            nr::GRANT_TABLE_OP,
            [u64::from(GNTTABOP_GET_VERSION), ARG, 1, 0, 0],
        )
    };
    assert_eq!(get_version(&mut w, MAPPER, u32::from(DOMID_SELF)), 0);
    assert_eq!(
        get_version(&mut w, MAPPER, u32::from(GRANTER)),
        Errno::EPERM.as_return()
    );
    assert_eq!(get_version(&mut w, 0, u32::from(GRANTER)), 0);
    assert_eq!(get_version(&mut w, 0, 7), Errno::ESRCH.as_return());
}

#[test]
fn a_granters_frame_mapped_past_its_death_goes_back_to_the_allocator_at_the_unmap() {
    let (mut w, _, shared) = granted();
    let op = w.map(8, GRANTER, HOST_MAP);
    assert_eq!(op.status, GNTST_OKAY);
    let mut freed = std::vec::Vec::new();
    let death = destroy_domain(
        &mut w.d.table,
        &mut w.d.frames,
        &mut w.d.platform.memory,
        GRANTER,
        &mut |mfn| freed.push(mfn),
    )
    .unwrap();
    assert_eq!(
        death.teardown.still_referenced, 1,
        "the mapped frame outlives its owner"
    );
    assert!(!freed.contains(&shared));
    assert!(
        !w.d.frames.has_freed_orphans(),
        "the teardown's own frees are not queued"
    );
    assert_eq!(
        w.unmap(op.handle, w.map_va),
        GNTST_OKAY,
        "the granter is gone: nothing to unpin"
    );
    let orphans: std::vec::Vec<Mfn> = w.d.frames.take_freed_orphans().collect();
    assert_eq!(orphans, [shared], "freed at the unmap, for the allocator");
    assert!(w.d.frames.frame(shared).unwrap().is_free());
    w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
}

/// One step of a hostile pair of domains, for the random sequences below.
#[derive(Clone, Debug)]
enum GrantOp {
    /// The granter writes entry `gref` (raw flags, grantee, frame choice).
    Write {
        gref: u32,
        flags: u16,
        grantee: u8,
        frame: u8,
    },
    /// The mapper maps with these choices.
    Map { gref: u32, dom: u8, flags: u32, va: u8 },
    /// The mapper unmaps handle `handle` at address choice `va`.
    Unmap { handle: u32, va: u8 },
    /// The granter tries to revoke `gref`.
    Revoke { gref: u32 },
    /// The mapper copies with these choices.
    Copy {
        gref: u32,
        offset: u16,
        len: u16,
        by_grant: bool,
        frame: u8,
    },
}

fn grant_op() -> impl proptest::strategy::Strategy<Value = GrantOp> {
    use proptest::prelude::*;
    prop_oneof![
        (0u32..24, any::<u16>(), 0u8..4, 0u8..5).prop_map(|(gref, flags, grantee, frame)| GrantOp::Write {
            gref,
            flags,
            grantee,
            frame
        }),
        (0u32..24, 0u8..5, any::<u32>(), 0u8..6).prop_map(|(gref, dom, flags, va)| GrantOp::Map {
            gref,
            dom,
            flags,
            va
        }),
        (0u32..12, 0u8..6).prop_map(|(handle, va)| GrantOp::Unmap { handle, va }),
        (0u32..24).prop_map(|gref| GrantOp::Revoke { gref }),
        (0u32..24, any::<u16>(), any::<u16>(), any::<bool>(), 0u8..5).prop_map(
            |(gref, offset, len, by_grant, frame)| GrantOp::Copy {
                gref,
                offset,
                len,
                by_grant,
                frame
            }
        ),
    ]
}

impl World {
    /// A frame choice: the granter's data, its grant table, the mapper's
    /// L4, a free or absent frame.
    fn frame_choice(&self, table: Mfn, choice: u8) -> Mfn {
        match choice {
            0 => self.granter_frame(),
            1 => table,
            2 => self
                .d
                .table
                .get(MAPPER)
                .unwrap()
                .vcpu
                .kernel_base
                .as_ref()
                .unwrap()
                .mfn(),
            3 => Mfn(0x50),
            _ => Mfn(0xffff_ffff),
        }
    }

    /// An address choice: pages the mapper maps, one with no L1, a
    /// misaligned and a non-canonical one.
    fn va_choice(&self, base: u64, choice: u8) -> u64 {
        match choice {
            0..3 => base - u64::from(choice) * 4096,
            3 => 0x0000_7000_0000_0000,
            4 => base + 8,
            _ => 0x8000_0000_0000_0000,
        }
    }

    fn run(&mut self, table: Mfn, base: u64, op: &GrantOp) {
        match *op {
            GrantOp::Write {
                gref,
                flags,
                grantee,
                frame,
            } => {
                // Never over an entry in use: the granter's own CAS rules.
                if gref < 512
                    && !self
                        .entry_flags(table, gref)
                        .intersects(GrantFlags::READING | GrantFlags::WRITING)
                {
                    let grantee = [MAPPER, 0, GRANTER, 9][usize::from(grantee) % 4];
                    let frame = self.frame_choice(table, frame);
                    let flags =
                        GrantFlags::from_bits_retain(flags & !(GrantFlags::READING | GrantFlags::WRITING).bits());
                    self.grant(table, gref, frame, grantee, flags);
                }
            }
            GrantOp::Map { gref, dom, flags, va } => {
                self.map_va = self.va_choice(base, va);
                let dom = [GRANTER, MAPPER, 0, 7, DOMID_SELF][usize::from(dom) % 5];
                let _ = self.map(gref, dom, GntmapFlags::from_bits_retain(flags));
            }
            GrantOp::Unmap { handle, va } => {
                let _ = self.unmap(handle, self.va_choice(base, va));
            }
            GrantOp::Revoke { gref } => {
                let _ = self.revoke(table, gref);
            }
            GrantOp::Copy {
                gref,
                offset,
                len,
                by_grant,
                frame,
            } => {
                let own = self.frame_choice(table, frame);
                let (source, flags) = if by_grant {
                    (end(u64::from(gref), GRANTER, offset), GntcopyFlags::SOURCE_GREF)
                } else {
                    (end(own.0, GRANTER, offset), GntcopyFlags::empty())
                };
                let copy = GnttabCopy {
                    source,
                    dest: end(own.0, DOMID_SELF, offset % 4096),
                    len,
                    flags: flags.bits(),
                    ..Default::default()
                };
                let _ = self.copy(MAPPER, copy);
            }
        }
    }
}

proptest::proptest! {
    // Few cases: each builds two domains of 4 MiB in a debug build.
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 8, ..Default::default() })]

    /// Whatever two domains do with grants, the frame table stays
    /// consistent, and once both are destroyed every frame is free.
    #[test]
    fn random_grant_sequences_keep_the_frame_table_sound(ops in proptest::collection::vec(grant_op(), 1..40)) {
        let (mut w, table, _) = granted();
        let base = w.map_va;
        let theirs: std::vec::Vec<usize> = w
            .d
            .frames
            .frames()
            .iter()
            .enumerate()
            .filter(|(_, frame)| frame.owner() == Some(GRANTER) || frame.owner() == Some(MAPPER))
            .map(|(index, _)| index)
            .collect();
        proptest::prop_assert!(theirs.len() > 1000, "both domains own their memory");
        // The checker walks every frame (slow in a debug build): it runs
        // every few steps, and proptest's shrinking finds the step.
        for (step, op) in ops.iter().enumerate() {
            w.run(table, base, op);
            if step % 8 == 7
                && let Err(violation) = w.d.frames.check_invariants(&w.d.platform.memory)
            {
                panic!("after {op:?}: {violation}");
            }
        }
        w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
        for id in [MAPPER, GRANTER] {
            destroy_domain(&mut w.d.table, &mut w.d.frames, &mut w.d.platform.memory, id, &mut |_| ()).unwrap();
            w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
        }
        let _ = w.d.frames.take_freed_orphans().count();
        let frames = w.d.frames.frames();
        let still_used = theirs.iter().filter(|&&index| !frames[index].is_free()).count();
        proptest::prop_assert_eq!(still_used, 0, "every frame of both domains is free");
    }
}
