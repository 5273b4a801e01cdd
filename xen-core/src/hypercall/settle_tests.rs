//! A release cut short and finished later is charged to the domain whose
//! tables it was: grant mappings dropped with them crash that domain, not
//! whichever domain makes the next page-table request.

use super::grant_world::{GRANTER, LIST, MAPPER, granted};
use super::test_domains::{Domains, call_as};
use super::*;
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::domain::pv_domain::DomainState;
use crate::mm::pte_rules::{PRESENT, RW, entry_address};
use crate::mm::{FrameInfo, Mfn};
use xen_abi::grant_table::{GNTST_OKAY, GntmapFlags};
use xen_abi::hypercall as nr;
use xen_abi::mmu::DomId;
use xen_abi::mmu::{DOMID_SELF, MmuUpdate};
use zerocopy::IntoBytes;

/// The L4 slot the mapper's extra tree hangs from.
const SLOT: u64 = 100;

#[test]
fn a_grant_mapping_dropped_by_a_late_release_crashes_its_owner_only() {
    let (mut w, _, _) = granted();
    let d = &mut *w.d;
    // An L3, an L2 and six L1s of the mapper's, free frames at the top of
    // its range: 4096 entries, two invocations' worth of release.
    let tables: std::vec::Vec<Mfn> = (0x2000..0x2008).map(Mfn).collect();
    for &mfn in &tables {
        assert!(d.frames.frame(mfn).is_some_and(FrameInfo::is_free));
        d.frames.assign(mfn, MAPPER).unwrap();
        d.platform.memory.zero_frame(mfn);
    }
    let (l3, l2, l1s) = (tables[0], tables[1], &tables[2..]);
    d.platform
        .memory
        .write_u64(entry_address(l3, 0), l2.address() | PRESENT | RW);
    for (index, l1) in l1s.iter().enumerate() {
        d.platform
            .memory
            .write_u64(entry_address(l2, index), l1.address() | PRESENT | RW);
    }
    let l4 = d.table.get(MAPPER).unwrap().vcpu.kernel_base.as_ref().unwrap().mfn();
    let hook = |d: &mut Domains, value: u64| {
        let update = MmuUpdate {
            ptr: entry_address(l4, SLOT as usize),
            val: value,
        };
        d.platform.guest.write(LIST, update.as_bytes()).unwrap();
        let mut args = [LIST, 1, 0, u64::from(DOMID_SELF), 0];
        loop {
            let called = call_as(
                &mut d.table,
                &mut d.frames,
                &mut d.frame,
                &mut d.platform,
                MAPPER,
                nr::MMU_UPDATE,
                args,
            );
            match called {
                Some((Completion::Continue(next), _)) => args = next,
                Some((Completion::Value(0), _)) => return,
                other => panic!("{other:?}"),
            }
        }
    };
    hook(d, l3.address() | PRESENT | RW);
    // The grant goes into the last L1, which a release reaches last.
    w.map_va = (SLOT << 39) + ((l1s.len() as u64 - 1) << 21);
    let map = w.map(8, GRANTER, GntmapFlags::HOST_MAP);
    assert_eq!(map.status, GNTST_OKAY);
    let d = &mut *w.d;
    hook(d, 0);
    assert!(d.frames.has_jobs(), "the release was cut short");
    let running = |d: &Domains, id: DomId| {
        d.table
            .get(id)
            .is_some_and(|domain| domain.state() == DomainState::Running)
    };
    assert!(running(d, MAPPER), "not reached yet");
    // The mapper's next request finishes the release, which drops the
    // grant mapping with its L1: the mapper is crashed, as Xen does.
    let any_va = (SLOT << 39) + 4096;
    let _ = call_as(
        &mut d.table,
        &mut d.frames,
        &mut d.frame,
        &mut d.platform,
        MAPPER,
        nr::UPDATE_VA_MAPPING,
        [any_va, 0, 0, 0, 0],
    );
    assert!(
        !running(d, MAPPER),
        "the mapper's own release dropped its grant mapping"
    );
    // The granter's next page-table request is its own business.
    let empty = [LIST, 0, 0, u64::from(DOMID_SELF), 0];
    let _ = call_as(
        &mut d.table,
        &mut d.frames,
        &mut d.frame,
        &mut d.platform,
        GRANTER,
        nr::MMU_UPDATE,
        empty,
    );
    assert!(
        running(d, GRANTER),
        "the granter is not charged with the mapper's release"
    );
}
