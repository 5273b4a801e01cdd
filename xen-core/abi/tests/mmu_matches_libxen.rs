//! Conformance: `mmu_update`, `mmuext_op`, their commands, UVMF flags, VM
//! assists, domain ids and the reserved virtual range equal those of `xen.h`
//! and `arch-x86/xen-x86_64.h`; the page size that of `io/ring.h`.

#[macro_use]
mod common;

use common::Probe;
use std::mem::{offset_of, size_of};
use xen_abi::mmu::*;
use xen_abi::page_table_entry::{PAGE_SHIFT, PAGE_SIZE};

#[test]
fn mmu_layouts_match_the_xen_header() {
    let mut p = Probe::new(&["xen/xen.h"]);
    layout!(p, "struct mmu_update", MmuUpdate {
        "ptr" => ptr,
        "val" => val,
    });
    layout!(p, "struct mmuext_op", MmuextOp {
        "cmd" => cmd,
        "arg1" => arg1,
        "arg1.mfn" => arg1,
        "arg1.linear_addr" => arg1,
        "arg2" => arg2,
        "arg2.vcpumask" => arg2,
        "arg2.src_mfn" => arg2,
    });
    // The narrower union member: same offset, low 32 bits.
    p.value("offsetof(struct mmuext_op, arg2.nr_ents)", offset_of!(MmuextOp, arg2));
    p.value("sizeof(((struct mmuext_op *)0)->arg2.nr_ents)", size_of::<u32>());
    p.value("sizeof(domid_t)", size_of::<DomId>());
    p.run();
}

#[test]
fn mmu_constants_match_the_xen_headers() {
    let mut p = Probe::new(&["xen/xen.h"]);
    constants!(p,
        MMU_NORMAL_PT_UPDATE,
        MMU_MACHPHYS_UPDATE,
        MMU_PT_UPDATE_PRESERVE_AD,
        MMU_PT_UPDATE_NO_TRANSLATE,
        MMUEXT_PIN_L1_TABLE,
        MMUEXT_PIN_L2_TABLE,
        MMUEXT_PIN_L3_TABLE,
        MMUEXT_PIN_L4_TABLE,
        MMUEXT_UNPIN_TABLE,
        MMUEXT_NEW_BASEPTR,
        MMUEXT_TLB_FLUSH_LOCAL,
        MMUEXT_INVLPG_LOCAL,
        MMUEXT_TLB_FLUSH_MULTI,
        MMUEXT_INVLPG_MULTI,
        MMUEXT_TLB_FLUSH_ALL,
        MMUEXT_INVLPG_ALL,
        MMUEXT_FLUSH_CACHE,
        MMUEXT_SET_LDT,
        MMUEXT_NEW_USER_BASEPTR,
        MMUEXT_CLEAR_PAGE,
        MMUEXT_COPY_PAGE,
        MMUEXT_FLUSH_CACHE_GLOBAL,
        MMUEXT_MARK_SUPER,
        MMUEXT_UNMARK_SUPER,
        UVMF_NONE,
        UVMF_TLB_FLUSH,
        UVMF_INVLPG,
        UVMF_FLUSHTYPE_MASK,
        UVMF_MULTI,
        UVMF_LOCAL,
        UVMF_ALL,
        VMASST_CMD_enable => VMASST_CMD_ENABLE,
        VMASST_CMD_disable => VMASST_CMD_DISABLE,
        VMASST_TYPE_4gb_segments => VMASST_TYPE_4GB_SEGMENTS,
        VMASST_TYPE_4gb_segments_notify => VMASST_TYPE_4GB_SEGMENTS_NOTIFY,
        VMASST_TYPE_writable_pagetables => VMASST_TYPE_WRITABLE_PAGETABLES,
        VMASST_TYPE_pae_extended_cr3 => VMASST_TYPE_PAE_EXTENDED_CR3,
        VMASST_TYPE_architectural_iopl => VMASST_TYPE_ARCHITECTURAL_IOPL,
        VMASST_TYPE_runstate_update_flag => VMASST_TYPE_RUNSTATE_UPDATE_FLAG,
        VMASST_TYPE_m2p_strict => VMASST_TYPE_M2P_STRICT,
        DOMID_FIRST_RESERVED,
        DOMID_SELF,
        DOMID_IO,
        DOMID_XEN,
        DOMID_COW,
        DOMID_INVALID,
        DOMID_IDLE,
        DOMID_MASK,
        HYPERVISOR_VIRT_START,
        HYPERVISOR_VIRT_END,
        MACH2PHYS_VIRT_START,
        MACH2PHYS_VIRT_END,
        MACH2PHYS_NR_ENTRIES,
    );
    p.value("(__HYPERVISOR_VIRT_START >> 39) & 511", HYPERVISOR_L4_SLOTS.start);
    p.value("((__HYPERVISOR_VIRT_END - 1) >> 39) & 511", HYPERVISOR_L4_SLOTS.end - 1);
    p.run();
}

#[test]
fn the_page_size_matches_the_ring_header() {
    let mut p = Probe::new(&["xen/xen.h", "xen/io/ring.h"]);
    constants!(p, XEN_PAGE_SHIFT => PAGE_SHIFT);
    p.value("1UL << XEN_PAGE_SHIFT", PAGE_SIZE);
    p.run();
}
