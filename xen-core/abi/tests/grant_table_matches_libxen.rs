//! Conformance: grant entries, grant-table operations, their flags and status
//! codes equal those of `grant_table.h`.

#[macro_use]
mod common;

use common::Probe;
use std::mem::size_of;
use xen_abi::grant_table::*;

#[test]
fn grant_table_layouts_match_the_xen_header() {
    let mut p = Probe::new(&["xen/grant_table.h"]);
    p.value("sizeof(grant_ref_t)", size_of::<GrantRef>());
    p.value("sizeof(grant_handle_t)", size_of::<GrantHandle>());
    layout!(p, "struct grant_entry_v1", GrantEntryV1 {
        "flags" => flags,
        "domid" => domid,
        "frame" => frame,
    });
    layout!(p, "struct gnttab_map_grant_ref", GnttabMapGrantRef {
        "host_addr" => host_addr,
        "flags" => flags,
        "ref" => gref,
        "dom" => dom,
        "status" => status,
        "handle" => handle,
        "dev_bus_addr" => dev_bus_addr,
    });
    layout!(p, "struct gnttab_unmap_grant_ref", GnttabUnmapGrantRef {
        "host_addr" => host_addr,
        "dev_bus_addr" => dev_bus_addr,
        "handle" => handle,
        "status" => status,
    });
    layout!(p, "struct gnttab_setup_table", GnttabSetupTable {
        "dom" => dom,
        "nr_frames" => nr_frames,
        "status" => status,
        "frame_list" => frame_list,
    });
    layout!(p, "struct gnttab_copy_ptr", GnttabCopyPtr {
        "u" => u,
        "u.gmfn" => u,
        "domid" => domid,
        "offset" => offset,
    });
    // The narrower union member: same offset, low 32 bits.
    p.value("offsetof(struct gnttab_copy_ptr, u.ref)", 0usize);
    p.value("sizeof(((struct gnttab_copy_ptr *)0)->u.ref)", size_of::<GrantRef>());
    layout!(p, "struct gnttab_copy", GnttabCopy {
        "source" => source,
        "source.domid" => source.domid,
        "source.offset" => source.offset,
        "dest" => dest,
        "dest.u" => dest.u,
        "dest.domid" => dest.domid,
        "dest.offset" => dest.offset,
        "len" => len,
        "flags" => flags,
        "status" => status,
    });
    layout!(p, "struct gnttab_query_size", GnttabQuerySize {
        "dom" => dom,
        "nr_frames" => nr_frames,
        "max_nr_frames" => max_nr_frames,
        "status" => status,
    });
    layout!(p, "struct gnttab_set_version", GnttabSetVersion {
        "version" => version,
    });
    p.run();
}

#[test]
fn grant_table_numbers_match_the_xen_header() {
    let mut p = Probe::new(&["xen/grant_table.h"]);
    constants!(p,
        GNTTAB_NR_RESERVED_ENTRIES,
        GNTTAB_RESERVED_CONSOLE,
        GNTTAB_RESERVED_XENSTORE,
        GTF_invalid => GTF_INVALID,
        GTF_permit_access => GrantFlags::PERMIT_ACCESS.bits(),
        GTF_accept_transfer => GrantFlags::ACCEPT_TRANSFER.bits(),
        GTF_transitive => GrantFlags::TRANSITIVE.bits(),
        GTF_type_mask => GrantFlags::TYPE_MASK.bits(),
        GTF_readonly => GrantFlags::READONLY.bits(),
        GTF_reading => GrantFlags::READING.bits(),
        GTF_writing => GrantFlags::WRITING.bits(),
        GTF_PWT => GrantFlags::PWT.bits(),
        GTF_PCD => GrantFlags::PCD.bits(),
        GTF_PAT => GrantFlags::PAT.bits(),
        GTF_sub_page => GrantFlags::SUB_PAGE.bits(),
        GTF_transfer_committed => GrantFlags::TRANSFER_COMMITTED.bits(),
        GTF_transfer_completed => GrantFlags::TRANSFER_COMPLETED.bits(),
        GNTTABOP_map_grant_ref => GNTTABOP_MAP_GRANT_REF,
        GNTTABOP_unmap_grant_ref => GNTTABOP_UNMAP_GRANT_REF,
        GNTTABOP_setup_table => GNTTABOP_SETUP_TABLE,
        GNTTABOP_dump_table => GNTTABOP_DUMP_TABLE,
        GNTTABOP_transfer => GNTTABOP_TRANSFER,
        GNTTABOP_copy => GNTTABOP_COPY,
        GNTTABOP_query_size => GNTTABOP_QUERY_SIZE,
        GNTTABOP_unmap_and_replace => GNTTABOP_UNMAP_AND_REPLACE,
        GNTTABOP_set_version => GNTTABOP_SET_VERSION,
        GNTTABOP_get_status_frames => GNTTABOP_GET_STATUS_FRAMES,
        GNTTABOP_get_version => GNTTABOP_GET_VERSION,
        GNTTABOP_swap_grant_ref => GNTTABOP_SWAP_GRANT_REF,
        GNTTABOP_cache_flush => GNTTABOP_CACHE_FLUSH,
        GNTMAP_device_map => GntmapFlags::DEVICE_MAP.bits(),
        GNTMAP_host_map => GntmapFlags::HOST_MAP.bits(),
        GNTMAP_readonly => GntmapFlags::READONLY.bits(),
        GNTMAP_application_map => GntmapFlags::APPLICATION_MAP.bits(),
        GNTMAP_contains_pte => GntmapFlags::CONTAINS_PTE.bits(),
        GNTMAP_guest_avail_mask => GNTMAP_GUEST_AVAIL_MASK,
        GNTCOPY_source_gref => GntcopyFlags::SOURCE_GREF.bits(),
        GNTCOPY_dest_gref => GntcopyFlags::DEST_GREF.bits(),
        GNTST_okay => GNTST_OKAY,
        GNTST_general_error => GNTST_GENERAL_ERROR,
        GNTST_bad_domain => GNTST_BAD_DOMAIN,
        GNTST_bad_gntref => GNTST_BAD_GNTREF,
        GNTST_bad_handle => GNTST_BAD_HANDLE,
        GNTST_bad_virt_addr => GNTST_BAD_VIRT_ADDR,
        GNTST_bad_dev_addr => GNTST_BAD_DEV_ADDR,
        GNTST_no_device_space => GNTST_NO_DEVICE_SPACE,
        GNTST_permission_denied => GNTST_PERMISSION_DENIED,
        GNTST_bad_page => GNTST_BAD_PAGE,
        GNTST_bad_copy_arg => GNTST_BAD_COPY_ARG,
        GNTST_address_too_big => GNTST_ADDRESS_TOO_BIG,
        GNTST_eagain => GNTST_EAGAIN,
        GNTST_no_space => GNTST_NO_SPACE,
    );
    p.run();
}
