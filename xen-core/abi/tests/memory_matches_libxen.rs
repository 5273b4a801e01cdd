//! Conformance: `memory_op` commands and structs equal those of `memory.h`.

#[macro_use]
mod common;

use common::Probe;
use xen_abi::memory::*;

#[test]
fn memory_layouts_and_numbers_match_the_xen_header() {
    let mut p = Probe::new(&["xen/memory.h"]);
    layout!(p, "struct xen_memory_reservation", XenMemoryReservation {
        "extent_start" => extent_start,
        "nr_extents" => nr_extents,
        "extent_order" => extent_order,
        "mem_flags" => mem_flags,
        "domid" => domid,
    });
    layout!(p, "struct xen_memory_map", XenMemoryMap {
        "nr_entries" => nr_entries,
        "buffer" => buffer,
    });
    layout!(p, "struct xen_machphys_mapping", XenMachphysMapping {
        "v_start" => v_start,
        "v_end" => v_end,
        "max_mfn" => max_mfn,
    });
    layout!(p, "struct xen_memory_exchange", XenMemoryExchange {
        "in" => input,
        "out" => output,
        "nr_exchanged" => nr_exchanged,
    });
    layout!(p, "struct xen_machphys_mfn_list", XenMachphysMfnList {
        "max_extents" => max_extents,
        "extent_start" => extent_start,
        "nr_extents" => nr_extents,
    });
    constants!(p,
        XENMEM_set_pod_target => XENMEM_SET_POD_TARGET,
        XENMEM_get_pod_target => XENMEM_GET_POD_TARGET,
        XENMEM_add_to_physmap_batch => XENMEM_ADD_TO_PHYSMAP_BATCH,
        XENMEM_machphys_compat_mfn_list => XENMEM_MACHPHYS_COMPAT_MFN_LIST,
        XENMEM_get_vnumainfo => XENMEM_GET_VNUMAINFO,
        XENMEMF_populate_on_demand => XENMEMF_POPULATE_ON_DEMAND,
        XENMEMF_exact_node_request => XENMEMF_EXACT_NODE_REQUEST,
        XENMEMF_vnode => XENMEMF_VNODE,
    );
    constants!(p,
        XENMEM_increase_reservation => XENMEM_INCREASE_RESERVATION,
        XENMEM_decrease_reservation => XENMEM_DECREASE_RESERVATION,
        XENMEM_maximum_ram_page => XENMEM_MAXIMUM_RAM_PAGE,
        XENMEM_current_reservation => XENMEM_CURRENT_RESERVATION,
        XENMEM_maximum_reservation => XENMEM_MAXIMUM_RESERVATION,
        XENMEM_machphys_mfn_list => XENMEM_MACHPHYS_MFN_LIST,
        XENMEM_populate_physmap => XENMEM_POPULATE_PHYSMAP,
        XENMEM_add_to_physmap => XENMEM_ADD_TO_PHYSMAP,
        XENMEM_memory_map => XENMEM_MEMORY_MAP,
        XENMEM_machine_memory_map => XENMEM_MACHINE_MEMORY_MAP,
        XENMEM_exchange => XENMEM_EXCHANGE,
        XENMEM_machphys_mapping => XENMEM_MACHPHYS_MAPPING,
        XENMEM_set_memory_map => XENMEM_SET_MEMORY_MAP,
        XENMEM_maximum_gpfn => XENMEM_MAXIMUM_GPFN,
        XENMEM_remove_from_physmap => XENMEM_REMOVE_FROM_PHYSMAP,
    );
    p.run();
}
