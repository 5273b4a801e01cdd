//! `memory_op` through the hypercall table: dom0 and a domU the builder
//! made, a pool of free frames, and Xen's answers.

use super::super::test_domains::{ARG, Domains, build_domain_in, call_as, machine_with_pool};
use super::super::*;
use super::reservation_change::PAGES_PER_INVOCATION;
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::mm::Mfn;
use xen_abi::errno::Errno;
use xen_abi::hypercall as nr;
use xen_abi::memory::*;
use xen_abi::mmu::{DOMID_SELF, DomId};
use zerocopy::IntoBytes;

/// The domU.
const DOMU: DomId = 1;
/// Its pages (what the test image needs).
const PAGES: u64 = 1024;
/// The free pool: frames `POOL..POOL + POOL_FRAMES`.
const POOL: u64 = 0x1000;
const POOL_FRAMES: u64 = 0x1000;
/// Where extent arrays are written.
const LIST: u64 = 0x20_0000;

/// The domains, giving back what the domU holds when the test ends (its
/// references must be put, not dropped).
struct World(std::boxed::Box<Domains>);

impl core::ops::Deref for World {
    type Target = Domains;
    fn deref(&self) -> &Domains {
        &self.0
    }
}

impl core::ops::DerefMut for World {
    fn deref_mut(&mut self) -> &mut Domains {
        &mut self.0
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(mut domain) = self.0.table.remove(DOMU) {
            domain.release_memory(&mut self.0.frames, &mut self.0.platform.memory, &mut |_| ());
        }
    }
}

fn setup() -> World {
    let (mut platform, mut frames, mut table) = machine_with_pool(POOL, POOL_FRAMES);
    for page in 0..2 {
        platform.guest.map(LIST + page * 4096, true);
    }
    build_domain_in(
        &mut platform,
        &mut frames,
        table.vacant(DOMU).unwrap(),
        PAGES,
        0x100,
        1280,
    );
    World(std::boxed::Box::new(Domains {
        table,
        frames,
        frame: crate::trap_frame::TrapFrame::default(),
        platform,
    }))
}

impl Domains {
    /// `memory_op(command, ARG)` with `argument` at ARG, from `caller`.
    fn memory_op(&mut self, caller: DomId, command: u64, argument: &[u8]) -> i64 {
        self.platform.guest.write(ARG, argument).unwrap();
        self.call(caller, nr::MEMORY_OP, [command, ARG, 0, 0, 0]).0
    }

    /// A reservation call over the frame numbers `list`, written at LIST;
    /// the result and the list as it was left.
    fn reservation(
        &mut self,
        caller: DomId,
        op: u32,
        order: u32,
        flags: u32,
        list: &[u64],
    ) -> (i64, std::vec::Vec<u64>) {
        self.platform.guest.write(LIST, list.as_bytes()).unwrap();
        let request = XenMemoryReservation {
            extent_start: LIST,
            nr_extents: list.len() as u64,
            extent_order: order,
            mem_flags: flags,
            domid: DOMID_SELF,
            _pad0: [0; 3],
        };
        let result = self.memory_op(caller, u64::from(op), request.as_bytes());
        (result, self.list(list.len()))
    }

    fn list(&mut self, count: usize) -> std::vec::Vec<u64> {
        let mut bytes = std::vec![0u8; count * 8];
        self.platform.guest.read(LIST, &mut bytes).unwrap();
        bytes
            .chunks_exact(8)
            .map(|word| u64::from_le_bytes(word.try_into().unwrap()))
            .collect()
    }

    fn query(&mut self, caller: DomId, op: u32, domid: DomId) -> i64 {
        self.memory_op(caller, u64::from(op), &domid.to_le_bytes())
    }

    fn owner(&self, mfn: u64) -> Option<DomId> {
        self.frames.frame(Mfn(mfn)).unwrap().owner()
    }
}

#[test]
fn the_reservation_queries_answer_as_xen_does() {
    let mut d = setup();
    let owned = d.frames.owned_by(DOMU) as i64;
    assert_eq!(
        owned, PAGES as i64,
        "its pages, the builder's tables among them; not shared_info or grant frames"
    );
    assert_eq!(d.query(DOMU, XENMEM_CURRENT_RESERVATION, DOMID_SELF), owned);
    assert_eq!(d.query(DOMU, XENMEM_CURRENT_RESERVATION, DOMU), owned, "its own id");
    assert_eq!(
        d.query(DOMU, XENMEM_MAXIMUM_RESERVATION, DOMID_SELF),
        (PAGES + 256) as i64
    );
    assert_eq!(d.query(0, XENMEM_MAXIMUM_RESERVATION, DOMID_SELF), i64::from(u32::MAX));
    assert_eq!(
        d.query(0, XENMEM_CURRENT_RESERVATION, DOMU),
        owned,
        "dom0 may ask of any"
    );
    assert_eq!(d.query(DOMU, XENMEM_CURRENT_RESERVATION, 0), Errno::EPERM.as_return());
    assert_eq!(d.query(DOMU, XENMEM_CURRENT_RESERVATION, 7), Errno::ESRCH.as_return());
    assert_eq!(d.query(DOMU, XENMEM_MAXIMUM_GPFN, DOMID_SELF), 0, "max_pfn unset");
    let shared_info = d.table.get(DOMU).unwrap().shared_info();
    let max_pfn_at =
        shared_info.address() + core::mem::offset_of!(xen_abi::shared_info::SharedInfo, arch.max_pfn) as u64;
    d.platform.memory.write_u64(max_pfn_at, 0x500);
    assert_eq!(d.query(DOMU, XENMEM_MAXIMUM_GPFN, DOMID_SELF), 0x4ff);
    assert_eq!(
        d.memory_op(DOMU, u64::from(XENMEM_MAXIMUM_RAM_PAGE), &[]),
        (POOL + POOL_FRAMES) as i64
    );
}

#[test]
fn populate_gives_scrubbed_frames_at_the_guests_numbers_and_decrease_takes_them_back() {
    let mut d = setup();
    let before = d.frames.owned_by(DOMU);
    // Dirty the pool: what a guest gets must be zeroed.
    for frame in POOL..POOL + 8 {
        d.platform.memory.write_u64(frame * 4096 + 64, 0xdead);
    }
    let (done, list) = d.reservation(DOMU, XENMEM_POPULATE_PHYSMAP, 0, 0, &[0x400, 0x401, 0x7777]);
    assert_eq!(done, 3);
    for (&mfn, pfn) in list.iter().zip([0x400, 0x401, 0x7777]) {
        assert_eq!(d.owner(mfn), Some(DOMU), "{mfn:#x} is the domain's");
        assert_eq!(d.platform.m2p.entries.get(&mfn), Some(&pfn), "in the M2P at its number");
        assert_eq!(d.platform.memory.read_u64(mfn * 4096 + 64), 0, "scrubbed");
    }
    assert_eq!(d.frames.owned_by(DOMU), before + 3);
    assert_eq!(
        d.query(DOMU, XENMEM_CURRENT_RESERVATION, DOMID_SELF),
        (before + 3) as i64
    );

    let (given, _) = d.reservation(DOMU, XENMEM_DECREASE_RESERVATION, 0, 0, &list[..2]);
    assert_eq!(given, 2);
    assert!(
        list[..2]
            .iter()
            .all(|&mfn| d.owner(mfn).is_none() && d.platform.frames.is_free(Mfn(mfn)))
    );
    assert_eq!(d.frames.owned_by(DOMU), before + 1);
    // One of dom0's frames, a free one, one beyond memory: the count stops.
    let (given, _) = d.reservation(DOMU, XENMEM_DECREASE_RESERVATION, 0, 0, &[list[2], list[0]]);
    assert_eq!(given, 1, "the second was given back already");
    let (given, _) = d.reservation(DOMU, XENMEM_DECREASE_RESERVATION, 0, 0, &[u64::MAX]);
    assert_eq!(given, 0);
    assert_eq!(d.frames.check_invariants(&d.platform.memory), Ok(()));
}

#[test]
fn a_frame_still_mapped_is_given_up_but_stays_until_its_last_reference_goes() {
    let mut d = setup();
    // The domain's first page: mapped by its own page tables.
    let kernel_frame = (0x100..0x100 + 1280)
        .find(|&mfn| d.frames.frame(Mfn(mfn)).unwrap().count() > 1 && d.owner(mfn) == Some(DOMU))
        .unwrap();
    let before = d.frames.owned_by(DOMU);
    let (given, _) = d.reservation(DOMU, XENMEM_DECREASE_RESERVATION, 0, 0, &[kernel_frame]);
    assert_eq!(given, 1);
    assert_eq!(d.owner(kernel_frame), Some(DOMU), "still referenced: still its own");
    assert_eq!(d.frames.owned_by(DOMU), before, "counted until it is free");
    assert!(!d.platform.frames.is_free(Mfn(kernel_frame)));
}

#[test]
fn increase_reports_frames_without_an_m2p_entry_and_limits_stop_the_count() {
    let mut d = setup();
    let (done, list) = d.reservation(DOMU, XENMEM_INCREASE_RESERVATION, 1, 0, &[0, 0]);
    assert_eq!(done, 2);
    for &mfn in &list {
        assert_eq!(mfn % 2, 0, "order-1 extents are aligned");
        assert_eq!(d.platform.m2p.entries.get(&(mfn + 1)), Some(&u64::MAX));
        assert_eq!(d.owner(mfn + 1), Some(DOMU));
    }
    // A domU may not ask for more than 2 MiB at once.
    assert_eq!(d.reservation(DOMU, XENMEM_POPULATE_PHYSMAP, 10, 0, &[0]).0, 0);
    // Nor go past its maximum: 1024 + 256 pages, of which it holds most.
    assert_eq!(d.reservation(DOMU, XENMEM_POPULATE_PHYSMAP, 9, 0, &[0]).0, 0);
    // Below 2^13 bytes there is no frame; 12 bits or fewer fail outright.
    assert_eq!(d.reservation(DOMU, XENMEM_POPULATE_PHYSMAP, 0, 13, &[0]).0, 0);
    assert_eq!(d.reservation(DOMU, XENMEM_POPULATE_PHYSMAP, 0, 12, &[0]).0, 0);
    // Below 2^29 bytes: within the pool.
    let (done, list) = d.reservation(DOMU, XENMEM_POPULATE_PHYSMAP, 0, 29, &[5]);
    assert_eq!(done, 1);
    assert!(list[0] < 1 << 17);
    // Another domain's reservation is dom0's to change, not a domU's.
    let request = XenMemoryReservation {
        extent_start: LIST,
        nr_extents: 1,
        domid: 0,
        ..XenMemoryReservation::default()
    };
    assert_eq!(
        d.memory_op(DOMU, u64::from(XENMEM_POPULATE_PHYSMAP), request.as_bytes()),
        0
    );
    assert_eq!(d.frames.check_invariants(&d.platform.memory), Ok(()));
}

#[test]
fn a_long_populate_continues_where_it_stopped() {
    let mut d = setup();
    // Make room for 600 more pages.
    let domain = d.table.get_mut(DOMU).unwrap();
    domain.reservation = crate::domain::reservation::Reservation::domu(2048);
    let pfns: std::vec::Vec<u64> = (0x1000..0x1000 + 600).collect();
    let bytes = pfns.as_bytes().to_vec();
    d.platform.guest.write(LIST, &bytes).unwrap();
    let request = XenMemoryReservation {
        extent_start: LIST,
        nr_extents: 600,
        domid: DOMID_SELF,
        ..XenMemoryReservation::default()
    };
    d.platform.guest.write(ARG, request.as_bytes()).unwrap();
    let mut args = [u64::from(XENMEM_POPULATE_PHYSMAP), ARG, 0, 0, 0];
    let mut invocations = 0;
    let result = loop {
        invocations += 1;
        let world = &mut *d.0;
        let called = call_as(
            &mut world.table,
            &mut world.frames,
            &mut world.frame,
            &mut world.platform,
            DOMU,
            nr::MEMORY_OP,
            args,
        );
        match called {
            Some((Completion::Continue(next), _)) => {
                assert_eq!(
                    next[0] >> MEMOP_EXTENT_SHIFT,
                    PAGES_PER_INVOCATION,
                    "resumes at the next extent"
                );
                args = next;
            }
            Some((Completion::Value(value), _)) => break value,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!((result, invocations), (600, 2));
    let list = d.list(600);
    assert!(list.iter().all(|&mfn| d.owner(mfn) == Some(DOMU)));
}

#[test]
fn exchange_gives_contiguous_frames_below_the_limit_for_unused_ones() {
    let mut d = setup();
    let (_, scattered) = d.reservation(DOMU, XENMEM_POPULATE_PHYSMAP, 0, 0, &[0x800, 0x801, 0x802, 0x803]);
    let out_list = LIST + 0x800;
    d.platform.guest.write(out_list, &0x800u64.to_le_bytes()).unwrap();
    let exchange = |input: &[u64]| XenMemoryExchange {
        input: XenMemoryReservation {
            extent_start: LIST,
            nr_extents: input.len() as u64,
            domid: DOMID_SELF,
            ..XenMemoryReservation::default()
        },
        output: XenMemoryReservation {
            extent_start: out_list,
            nr_extents: 1,
            extent_order: 2,
            mem_flags: 32,
            domid: DOMID_SELF,
            _pad0: [0; 3],
        },
        nr_exchanged: 0,
    };
    let before = d.frames.owned_by(DOMU);
    d.platform.guest.write(LIST, scattered.as_bytes()).unwrap();
    let (result, after) = d.op(DOMU, nr::MEMORY_OP, XENMEM_EXCHANGE, 0, exchange(&scattered));
    assert_eq!((result, after.nr_exchanged), (0, 4));
    let mut out = [0u8; 8];
    d.platform.guest.read(out_list, &mut out).unwrap();
    let first = u64::from_le_bytes(out);
    assert_eq!(first % 4, 0, "aligned to its order");
    for page in 0..4 {
        assert_eq!(d.owner(first + page), Some(DOMU));
        assert_eq!(d.platform.m2p.entries.get(&(first + page)), Some(&(0x800 + page)));
    }
    for &mfn in scattered.iter().filter(|&&mfn| !(first..first + 4).contains(&mfn)) {
        assert_eq!(d.owner(mfn), None, "{mfn:#x} given up");
        assert!(d.platform.frames.is_free(Mfn(mfn)), "{mfn:#x} back in the pool");
    }
    assert_eq!(d.frames.owned_by(DOMU), before, "as many frames as before");

    // A frame that is mapped cannot be exchanged: nothing changes.
    let mapped = (0x100..0x100 + 1280)
        .find(|&mfn| d.frames.frame(Mfn(mfn)).unwrap().count() > 1 && d.owner(mfn) == Some(DOMU))
        .unwrap();
    let inputs = [first, first + 1, first + 2, mapped];
    d.platform.guest.write(LIST, inputs.as_bytes()).unwrap();
    let (result, after) = d.op(DOMU, nr::MEMORY_OP, XENMEM_EXCHANGE, 0, exchange(&inputs));
    assert_eq!((result, after.nr_exchanged), (Errno::EINVAL.as_return(), 0));
    assert!(
        inputs.iter().all(|&mfn| d.owner(mfn) == Some(DOMU)),
        "the first three given back"
    );
    // The same frame twice is refused the second time.
    let twice = [first, first, first + 2, first + 3];
    d.platform.guest.write(LIST, twice.as_bytes()).unwrap();
    let (result, _) = d.op(DOMU, nr::MEMORY_OP, XENMEM_EXCHANGE, 0, exchange(&twice));
    assert_eq!(result, Errno::EINVAL.as_return());
    assert_eq!(d.frames.owned_by(DOMU), before);
    // Sizes that do not match, and an order over a domU's limit.
    let mut uneven = exchange(&scattered[..3]);
    uneven.input.nr_extents = 3;
    assert_eq!(
        d.op(DOMU, nr::MEMORY_OP, XENMEM_EXCHANGE, 0, uneven).0,
        Errno::EINVAL.as_return()
    );
    let mut huge = exchange(&scattered);
    huge.output.extent_order = 10;
    huge.input.extent_order = 8;
    huge.input.nr_extents = 4;
    huge.output.nr_extents = 1;
    assert_eq!(
        d.op(DOMU, nr::MEMORY_OP, XENMEM_EXCHANGE, 0, huge).0,
        Errno::EPERM.as_return()
    );
    assert_eq!(d.frames.check_invariants(&d.platform.memory), Ok(()));
}

#[test]
fn maps_are_the_domains_own_the_machines_for_dom0_and_the_m2p_window() {
    let mut d = setup();
    let mut request = XenMemoryMap {
        nr_entries: 8,
        _pad0: 0,
        buffer: LIST,
    };
    let (result, map) = d.op(DOMU, nr::MEMORY_OP, XENMEM_MEMORY_MAP, 0, request);
    assert_eq!((result, map.nr_entries), (0, 1));
    let mut entry = [0u8; 20];
    d.platform.guest.read(LIST, &mut entry).unwrap();
    assert_eq!(
        u64::from_le_bytes(entry[8..16].try_into().unwrap()),
        PAGES * 4096,
        "RAM from 0"
    );
    assert_eq!(
        d.op(0, nr::MEMORY_OP, XENMEM_MEMORY_MAP, 0, request).0,
        Errno::ENOSYS.as_return()
    );

    d.platform.machine_map = std::vec![
        E820Entry {
            addr: 0,
            size: 0x9fc00,
            kind: E820_RAM
        },
        E820Entry {
            addr: 0x10_0000,
            size: 0x1000_0000,
            kind: E820_RAM
        },
        E820Entry {
            addr: 0xfeff_c000,
            size: 0x4000,
            kind: E820_RESERVED
        },
    ];
    assert_eq!(
        d.op(DOMU, nr::MEMORY_OP, XENMEM_MACHINE_MEMORY_MAP, 0, request).0,
        Errno::EPERM.as_return()
    );
    let (result, map) = d.op(0, nr::MEMORY_OP, XENMEM_MACHINE_MEMORY_MAP, 0, request);
    assert_eq!((result, map.nr_entries), (0, 3));
    let mut third = [0u8; 20];
    d.platform.guest.read(LIST + 40, &mut third).unwrap();
    assert_eq!(u32::from_le_bytes(third[16..20].try_into().unwrap()), E820_RESERVED);
    request.nr_entries = 3;
    assert_eq!(
        d.op(0, nr::MEMORY_OP, XENMEM_MACHINE_MEMORY_MAP, 0, request).0,
        Errno::EINVAL.as_return(),
        "room for one more"
    );

    let (result, mapping) = d.op(
        DOMU,
        nr::MEMORY_OP,
        XENMEM_MACHPHYS_MAPPING,
        0,
        XenMachphysMapping::default(),
    );
    assert_eq!(
        (result, mapping.v_start, mapping.max_mfn),
        (0, 0xffff_8000_0000_0000, (1 << 35) - 1)
    );
    let (_, mapping) = d.op(
        0,
        nr::MEMORY_OP,
        XENMEM_MACHPHYS_MAPPING,
        0,
        XenMachphysMapping::default(),
    );
    assert_eq!(mapping.max_mfn, POOL + POOL_FRAMES - 1, "dom0: the last frame there is");

    // A domU may set its own map, not another's.
    let mut foreign = [0u8; 24];
    foreign[0..2].copy_from_slice(&DOMID_SELF.to_le_bytes());
    foreign[8..12].copy_from_slice(&0u32.to_le_bytes());
    foreign[16..24].copy_from_slice(&LIST.to_le_bytes());
    assert_eq!(d.memory_op(DOMU, u64::from(XENMEM_SET_MEMORY_MAP), &foreign), 0);
    assert_eq!(
        d.op(DOMU, nr::MEMORY_OP, XENMEM_MEMORY_MAP, 0, request).0,
        Errno::ENOSYS.as_return(),
        "no map now"
    );
    foreign[0..2].copy_from_slice(&0u16.to_le_bytes());
    assert_eq!(
        d.memory_op(DOMU, u64::from(XENMEM_SET_MEMORY_MAP), &foreign),
        Errno::EPERM.as_return()
    );
}

#[test]
fn what_a_pv_guest_may_not_use_gets_xens_errno() {
    let mut d = setup();
    let zeros = [0u8; 72];
    let op = |d: &mut Domains, command: u64| d.memory_op(DOMU, command, &zeros);
    assert_eq!(op(&mut d, 8), Errno::ENOSYS.as_return(), "a number no longer used");
    assert_eq!(op(&mut d, 40), Errno::ENOSYS.as_return());
    assert_eq!(op(&mut d, u64::from(XENMEM_ADD_TO_PHYSMAP)), Errno::EACCES.as_return());
    assert_eq!(
        op(&mut d, u64::from(XENMEM_GET_VNUMAINFO)),
        Errno::EPERM.as_return(),
        "domid 0: dom0's"
    );
    let mut own = zeros;
    own[0..2].copy_from_slice(&DOMID_SELF.to_le_bytes());
    assert_eq!(
        d.memory_op(DOMU, u64::from(XENMEM_GET_VNUMAINFO), &own),
        Errno::EOPNOTSUPP.as_return()
    );
    assert_eq!(op(&mut d, u64::from(XENMEM_CLAIM_PAGES)), Errno::EPERM.as_return());
    assert_eq!(op(&mut d, u64::from(XENMEM_GET_SHARING_FREED_PAGES)), 0);
    assert_eq!(
        op(&mut d, u64::from(XENMEM_MACHPHYS_COMPAT_MFN_LIST)),
        Errno::EOPNOTSUPP.as_return()
    );
    let resumed = 1 << MEMOP_EXTENT_SHIFT;
    assert_eq!(
        op(&mut d, u64::from(XENMEM_EXCHANGE) | resumed),
        Errno::EINVAL.as_return()
    );
    assert_eq!(
        op(&mut d, u64::from(XENMEM_MEMORY_MAP) | resumed),
        Errno::ENOSYS.as_return()
    );
    // A resume index past the extents is where the call ends.
    let request = XenMemoryReservation {
        nr_extents: 1,
        domid: DOMID_SELF,
        ..XenMemoryReservation::default()
    };
    let command = u64::from(XENMEM_POPULATE_PHYSMAP) | 5 << MEMOP_EXTENT_SHIFT;
    assert_eq!(d.memory_op(DOMU, command, request.as_bytes()), 5);
}

#[test]
fn giving_up_a_pinned_table_unpins_it_and_the_domains_end_still_frees_everything() {
    let mut d = setup();
    let l4 = d.table.get(DOMU).unwrap().vcpu.kernel_base.as_ref().unwrap().mfn();
    let (given, _) = d.reservation(DOMU, XENMEM_DECREASE_RESERVATION, 0, 0, &[l4.0]);
    assert_eq!(given, 1);
    let info = *d.frames.frame(l4).unwrap();
    assert!(
        !info.is_pinned() && !info.is_allocated(),
        "unpinned, as on Xen: {info:?}"
    );
    assert_eq!(d.owner(l4.0), Some(DOMU), "still the base");
    let mut domain = d.0.table.remove(DOMU).unwrap();
    let world = &mut *d.0;
    domain.release_memory(&mut world.frames, &mut world.platform.memory, &mut |_| ());
    let left = world.frames.frames().iter().filter(|frame| !frame.is_free()).count();
    assert_eq!(left, 0, "no frame of its tree kept alive");
}

#[test]
fn machphys_mfn_list_names_the_m2p_runs_up_to_the_room_given() {
    let mut d = setup();
    d.platform.m2p_extents = std::vec![Mfn(0x2000), Mfn(0x2200), Mfn(0x2400)];
    let request = |max_extents| XenMachphysMfnList {
        max_extents,
        extent_start: LIST,
        ..Default::default()
    };
    let (result, list) = d.op(DOMU, nr::MEMORY_OP, XENMEM_MACHPHYS_MFN_LIST, 0, request(8));
    assert_eq!((result, list.nr_extents), (0, 3), "any PV guest may ask, as on Xen");
    let mut written = [0u64; 3];
    d.platform.guest.read(LIST, written.as_mut_bytes()).unwrap();
    assert_eq!(written, [0x2000, 0x2200, 0x2400]);
    let (result, list) = d.op(DOMU, nr::MEMORY_OP, XENMEM_MACHPHYS_MFN_LIST, 0, request(2));
    assert_eq!((result, list.nr_extents), (0, 2), "no more than the room given");
    // An array the guest cannot write: -EFAULT.
    let unmapped = XenMachphysMfnList {
        extent_start: 0xdead_0000,
        ..request(8)
    };
    assert_eq!(
        d.op(DOMU, nr::MEMORY_OP, XENMEM_MACHPHYS_MFN_LIST, 0, unmapped).0,
        Errno::EFAULT.as_return()
    );
}
