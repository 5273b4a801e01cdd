//! Grant tables through the hypercall table: setup, map, unmap, copy and
//! death, each refusal with nothing held (the world in `grant_world.rs`).

use super::grant_world::*;
use super::test_domains::ARG;
use crate::arch::PhysicalMemory;
use crate::domain::domain_death::destroy_domain;
use crate::mm::Mfn;
use crate::mm::pte_rules::{GNTTAB, RW, entry_address, entry_mfn};
use xen_abi::errno::Errno;
use xen_abi::grant_table::*;
use xen_abi::hypercall as nr;
use xen_abi::mmu::DOMID_SELF;
use xen_abi::mmu::DomId;
use zerocopy::IntoBytes;

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
        (0, 1, 64, GNTST_OKAY)
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
    assert_eq!(w.setup_frames(GRANTER, 65), GNTST_GENERAL_ERROR);
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
fn a_table_grows_to_what_setup_asks_up_to_64_frames_outside_the_reservation() {
    let mut w = world();
    let held = w.d.frames.owned_by(GRANTER);
    assert_eq!(w.setup_frames(GRANTER, 64), GNTST_OKAY);
    let mut listed = [0u64; 64];
    crate::arch::GuestMemory::read(&mut w.d.platform.guest, LIST, listed.as_mut_bytes()).unwrap();
    let distinct: std::collections::BTreeSet<u64> = listed.iter().copied().collect();
    assert_eq!(distinct.len(), 64, "64 frames, each once");
    for &mfn in &listed[1..] {
        assert!((POOL..POOL + POOL_FRAMES).contains(&mfn), "grown from the free pool");
        let info = w.d.frames.frame(Mfn(mfn)).unwrap();
        assert_eq!(info.owner(), Some(GRANTER));
        assert_eq!(w.d.platform.memory.read_u64(Mfn(mfn).address() + 8), 0, "zeroed");
    }
    assert_eq!(w.d.frames.owned_by(GRANTER), held, "not counted in its reservation");
    let (_, query) = w.op(
        GRANTER,
        GNTTABOP_QUERY_SIZE,
        GnttabQuerySize {
            dom: DOMID_SELF,
            ..Default::default()
        },
    );
    assert_eq!((query.nr_frames, query.max_nr_frames), (64, 64));
    // The last entry of the last frame is usable.
    assert!(
        w.d.table
            .get(GRANTER)
            .unwrap()
            .grants
            .entry_address(64 * 512 - 1)
            .is_some()
    );
    // The other domain cannot grow past what is free: 8 frames are left.
    assert_eq!(w.setup_frames(MAPPER, 20), GNTST_GENERAL_ERROR);
    w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
    // Its end gives every frame back.
    let mut freed = std::vec::Vec::new();
    let death = destroy_domain(
        &mut w.d.table,
        &mut w.d.frames,
        &mut w.d.platform.memory,
        GRANTER,
        &mut |mfn| freed.push(mfn.0),
    )
    .unwrap();
    assert_eq!(death.teardown.still_referenced, 0);
    assert!(
        listed[1..].iter().all(|mfn| freed.contains(mfn)),
        "handed back to be freed"
    );
    assert!(
        listed[1..]
            .iter()
            .all(|&mfn| w.d.frames.frame(Mfn(mfn)).unwrap().is_free()),
        "the grown frames are free again"
    );
    w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
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

#[test]
fn the_guests_own_bits_of_a_map_go_to_the_entrys_available_bits() {
    let (mut w, _, shared) = granted();
    // GNTMAP_host_map with 0b101 in the guest's bits (from bit 16).
    let flags = GntmapFlags::from_bits_retain(HOST_MAP.bits() | 0b101 << 16);
    let op = w.map(8, GRANTER, flags);
    assert_eq!(op.status, GNTST_OKAY);
    let entry = w.mapper_entry();
    assert_eq!(entry_mfn(entry), shared);
    assert_eq!((entry >> 9) & 7, 0b101, "available bits 9-11");
    assert_eq!(w.unmap(op.handle, w.map_va), GNTST_OKAY, "the same entry is taken back");
    assert_eq!(w.mapper_entry(), 0);
    w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
}
