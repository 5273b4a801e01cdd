//! Grant-table benchmarks, per 4 KiB page. The domain grants one of its
//! own frames to itself (dom0 on both hypervisors may map its own grants),
//! so the figures come from a lone dom0 on xen-core and on real Xen alike:
//! `map_grant_ref` plus `unmap_grant_ref` of that grant at the SDK's grant
//! window, and `GNTTABOP_copy` of a whole page from the grant into another
//! of our frames.

use crate::measure::per_call;
use core::hint::black_box;
use guest_sdk::grant_table::{self, GrantError};
use guest_sdk::page_table::{PageTableManager, XenMmu};
use guest_sdk::println;
use xen_abi::grant_table::{GNTST_OKAY, GntcopyFlags, GnttabCopy, GnttabCopyPtr};
use xen_abi::mmu::DOMID_SELF;

/// Our domain id as a grant entry must name it (entries cannot say
/// DOMID_SELF): the bench runs as dom0.
const SELF_ID: u16 = 0;

/// Runs the grant benchmarks with two frames from `tables`.
pub fn benchmarks(tables: &mut PageTableManager<XenMmu>) -> Result<(), GrantError> {
    grant_table::start()?;
    let (Ok(source), Ok(dest)) = (tables.allocate_frame(), tables.allocate_frame()) else {
        println!("bench grants: no frames");
        return Ok(());
    };
    let gref = grant_table::grant_access(SELF_ID, source.mfn, true)?;
    // Once outside the timing: a failure here is reported, not timed.
    grant_table::unmap(grant_table::map(SELF_ID, gref, true)?)?;
    let ticks = per_call(|| {
        if let Ok(mapping) = grant_table::map(SELF_ID, gref, true) {
            black_box(grant_table::unmap(mapping).ok());
        }
    });
    println!("bench grant_map_unmap: {ticks} per page");
    let mut copy = [GnttabCopy {
        source: GnttabCopyPtr {
            u: u64::from(gref),
            domid: SELF_ID,
            ..Default::default()
        },
        dest: GnttabCopyPtr {
            u: dest.mfn,
            domid: DOMID_SELF,
            ..Default::default()
        },
        len: 4096,
        flags: GntcopyFlags::SOURCE_GREF.bits(),
        ..Default::default()
    }];
    grant_table::copy(&mut copy)?;
    if copy[0].status != GNTST_OKAY {
        return Err(GrantError::Status(copy[0].status));
    }
    let ticks = per_call(|| {
        black_box(grant_table::copy(&mut copy).ok());
    });
    println!("bench grant_copy_4k: {ticks} per page");
    grant_table::end_access(gref)
}
