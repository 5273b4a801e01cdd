//! Conformance: our layouts and numbers equal those of Debian's `libxen-dev` headers.
//!
//! This file covers the boot structures, ELF notes, hypercall numbers and
//! `sched_op` and the credit scheduler's parameters; the other header areas have their own `*_matches_libxen.rs`
//! files. The probe harness lives in `common/mod.rs`.

#[macro_use]
mod common;

use common::{Probe, assert_layouts};
use std::mem::{offset_of, size_of};
use xen_abi::elfnote::*;
use xen_abi::hvm_start_info::*;

#[test]
fn hvm_start_info_layouts_match_the_xen_header() {
    assert_layouts(
        &["xen/xen.h", "xen/arch-x86/hvm/start_info.h"],
        &[
            ("sizeof(struct hvm_start_info)", size_of::<HvmStartInfo>()),
            (
                "offsetof(struct hvm_start_info, magic)",
                offset_of!(HvmStartInfo, magic),
            ),
            (
                "offsetof(struct hvm_start_info, version)",
                offset_of!(HvmStartInfo, version),
            ),
            (
                "offsetof(struct hvm_start_info, flags)",
                offset_of!(HvmStartInfo, flags),
            ),
            (
                "offsetof(struct hvm_start_info, nr_modules)",
                offset_of!(HvmStartInfo, nr_modules),
            ),
            (
                "offsetof(struct hvm_start_info, modlist_paddr)",
                offset_of!(HvmStartInfo, modlist_paddr),
            ),
            (
                "offsetof(struct hvm_start_info, cmdline_paddr)",
                offset_of!(HvmStartInfo, cmdline_paddr),
            ),
            (
                "offsetof(struct hvm_start_info, rsdp_paddr)",
                offset_of!(HvmStartInfo, rsdp_paddr),
            ),
            (
                "offsetof(struct hvm_start_info, memmap_paddr)",
                offset_of!(HvmStartInfo, memmap_paddr),
            ),
            (
                "offsetof(struct hvm_start_info, memmap_entries)",
                offset_of!(HvmStartInfo, memmap_entries),
            ),
            (
                "offsetof(struct hvm_start_info, reserved)",
                offset_of!(HvmStartInfo, reserved),
            ),
            ("sizeof(struct hvm_modlist_entry)", size_of::<HvmModlistEntry>()),
            (
                "offsetof(struct hvm_modlist_entry, paddr)",
                offset_of!(HvmModlistEntry, paddr),
            ),
            (
                "offsetof(struct hvm_modlist_entry, size)",
                offset_of!(HvmModlistEntry, size),
            ),
            (
                "offsetof(struct hvm_modlist_entry, cmdline_paddr)",
                offset_of!(HvmModlistEntry, cmdline_paddr),
            ),
            (
                "sizeof(struct hvm_memmap_table_entry)",
                size_of::<HvmMemmapTableEntry>(),
            ),
            (
                "offsetof(struct hvm_memmap_table_entry, addr)",
                offset_of!(HvmMemmapTableEntry, addr),
            ),
            (
                "offsetof(struct hvm_memmap_table_entry, size)",
                offset_of!(HvmMemmapTableEntry, size),
            ),
            (
                "offsetof(struct hvm_memmap_table_entry, type)",
                offset_of!(HvmMemmapTableEntry, kind),
            ),
            ("XEN_HVM_START_MAGIC_VALUE", XEN_HVM_START_MAGIC_VALUE as usize),
            ("XEN_HVM_MEMMAP_TYPE_RAM", XEN_HVM_MEMMAP_TYPE_RAM as usize),
            ("XEN_HVM_MEMMAP_TYPE_RESERVED", XEN_HVM_MEMMAP_TYPE_RESERVED as usize),
            ("XEN_HVM_MEMMAP_TYPE_ACPI", XEN_HVM_MEMMAP_TYPE_ACPI as usize),
            ("XEN_HVM_MEMMAP_TYPE_NVS", XEN_HVM_MEMMAP_TYPE_NVS as usize),
            ("XEN_HVM_MEMMAP_TYPE_UNUSABLE", XEN_HVM_MEMMAP_TYPE_UNUSABLE as usize),
            ("XEN_HVM_MEMMAP_TYPE_DISABLED", XEN_HVM_MEMMAP_TYPE_DISABLED as usize),
            ("XEN_HVM_MEMMAP_TYPE_PMEM", XEN_HVM_MEMMAP_TYPE_PMEM as usize),
        ],
    );
}

#[test]
fn elf_note_numbers_match_the_xen_header() {
    let notes = [
        ("XEN_ELFNOTE_INFO", XEN_ELFNOTE_INFO),
        ("XEN_ELFNOTE_ENTRY", XEN_ELFNOTE_ENTRY),
        ("XEN_ELFNOTE_HYPERCALL_PAGE", XEN_ELFNOTE_HYPERCALL_PAGE),
        ("XEN_ELFNOTE_VIRT_BASE", XEN_ELFNOTE_VIRT_BASE),
        ("XEN_ELFNOTE_PADDR_OFFSET", XEN_ELFNOTE_PADDR_OFFSET),
        ("XEN_ELFNOTE_XEN_VERSION", XEN_ELFNOTE_XEN_VERSION),
        ("XEN_ELFNOTE_GUEST_OS", XEN_ELFNOTE_GUEST_OS),
        ("XEN_ELFNOTE_GUEST_VERSION", XEN_ELFNOTE_GUEST_VERSION),
        ("XEN_ELFNOTE_LOADER", XEN_ELFNOTE_LOADER),
        ("XEN_ELFNOTE_PAE_MODE", XEN_ELFNOTE_PAE_MODE),
        ("XEN_ELFNOTE_FEATURES", XEN_ELFNOTE_FEATURES),
        ("XEN_ELFNOTE_BSD_SYMTAB", XEN_ELFNOTE_BSD_SYMTAB),
        ("XEN_ELFNOTE_HV_START_LOW", XEN_ELFNOTE_HV_START_LOW),
        ("XEN_ELFNOTE_L1_MFN_VALID", XEN_ELFNOTE_L1_MFN_VALID),
        ("XEN_ELFNOTE_SUSPEND_CANCEL", XEN_ELFNOTE_SUSPEND_CANCEL),
        ("XEN_ELFNOTE_INIT_P2M", XEN_ELFNOTE_INIT_P2M),
        ("XEN_ELFNOTE_MOD_START_PFN", XEN_ELFNOTE_MOD_START_PFN),
        ("XEN_ELFNOTE_SUPPORTED_FEATURES", XEN_ELFNOTE_SUPPORTED_FEATURES),
        ("XEN_ELFNOTE_PHYS32_ENTRY", XEN_ELFNOTE_PHYS32_ENTRY),
    ];
    let pairs: Vec<(&str, usize)> = notes.iter().map(|(c, v)| (*c, *v as usize)).collect();
    assert_layouts(&["xen/elfnote.h"], &pairs);
}

#[test]
fn hypercall_numbers_match_the_xen_header() {
    use xen_abi::hypercall::*;
    let numbers = [
        ("__HYPERVISOR_set_trap_table", SET_TRAP_TABLE),
        ("__HYPERVISOR_mmu_update", MMU_UPDATE),
        ("__HYPERVISOR_set_gdt", SET_GDT),
        ("__HYPERVISOR_stack_switch", STACK_SWITCH),
        ("__HYPERVISOR_set_callbacks", SET_CALLBACKS),
        ("__HYPERVISOR_fpu_taskswitch", FPU_TASKSWITCH),
        ("__HYPERVISOR_sched_op_compat", SCHED_OP_COMPAT),
        ("__HYPERVISOR_platform_op", PLATFORM_OP),
        ("__HYPERVISOR_set_debugreg", SET_DEBUGREG),
        ("__HYPERVISOR_get_debugreg", GET_DEBUGREG),
        ("__HYPERVISOR_update_descriptor", UPDATE_DESCRIPTOR),
        ("__HYPERVISOR_memory_op", MEMORY_OP),
        ("__HYPERVISOR_multicall", MULTICALL),
        ("__HYPERVISOR_update_va_mapping", UPDATE_VA_MAPPING),
        ("__HYPERVISOR_set_timer_op", SET_TIMER_OP),
        ("__HYPERVISOR_event_channel_op_compat", EVENT_CHANNEL_OP_COMPAT),
        ("__HYPERVISOR_xen_version", XEN_VERSION),
        ("__HYPERVISOR_console_io", CONSOLE_IO),
        ("__HYPERVISOR_physdev_op_compat", PHYSDEV_OP_COMPAT),
        ("__HYPERVISOR_grant_table_op", GRANT_TABLE_OP),
        ("__HYPERVISOR_vm_assist", VM_ASSIST),
        (
            "__HYPERVISOR_update_va_mapping_otherdomain",
            UPDATE_VA_MAPPING_OTHERDOMAIN,
        ),
        ("__HYPERVISOR_iret", IRET),
        ("__HYPERVISOR_vcpu_op", VCPU_OP),
        ("__HYPERVISOR_set_segment_base", SET_SEGMENT_BASE),
        ("__HYPERVISOR_mmuext_op", MMUEXT_OP),
        ("__HYPERVISOR_xsm_op", XSM_OP),
        ("__HYPERVISOR_nmi_op", NMI_OP),
        ("__HYPERVISOR_sched_op", SCHED_OP),
        ("__HYPERVISOR_callback_op", CALLBACK_OP),
        ("__HYPERVISOR_xenoprof_op", XENOPROF_OP),
        ("__HYPERVISOR_event_channel_op", EVENT_CHANNEL_OP),
        ("__HYPERVISOR_physdev_op", PHYSDEV_OP),
        ("__HYPERVISOR_hvm_op", HVM_OP),
        ("__HYPERVISOR_sysctl", SYSCTL),
        ("__HYPERVISOR_domctl", DOMCTL),
        ("__HYPERVISOR_kexec_op", KEXEC_OP),
        ("__HYPERVISOR_tmem_op", TMEM_OP),
        ("__HYPERVISOR_argo_op", ARGO_OP),
        ("__HYPERVISOR_xenpmu_op", XENPMU_OP),
        ("__HYPERVISOR_dm_op", DM_OP),
        ("__HYPERVISOR_hypfs_op", HYPFS_OP),
        ("__HYPERVISOR_arch_0", ARCH_0),
        ("CONSOLEIO_write", CONSOLEIO_WRITE),
        ("CONSOLEIO_read", CONSOLEIO_READ),
    ];
    let pairs: Vec<(&str, usize)> = numbers.iter().map(|(c, v)| (*c, *v as usize)).collect();
    assert_layouts(&["xen/xen.h"], &pairs);
}

#[test]
fn sched_op_numbers_and_layouts_match_the_xen_header() {
    use xen_abi::sched::*;
    assert_layouts(
        &["xen/xen.h", "xen/sched.h"],
        &[
            ("SCHEDOP_yield", SCHEDOP_YIELD as usize),
            ("SCHEDOP_block", SCHEDOP_BLOCK as usize),
            ("SCHEDOP_shutdown", SCHEDOP_SHUTDOWN as usize),
            ("SCHEDOP_poll", SCHEDOP_POLL as usize),
            ("SHUTDOWN_poweroff", SHUTDOWN_POWEROFF as usize),
            ("SHUTDOWN_reboot", SHUTDOWN_REBOOT as usize),
            ("SHUTDOWN_suspend", SHUTDOWN_SUSPEND as usize),
            ("SHUTDOWN_crash", SHUTDOWN_CRASH as usize),
            ("SHUTDOWN_watchdog", SHUTDOWN_WATCHDOG as usize),
            ("sizeof(struct sched_shutdown)", size_of::<SchedShutdown>()),
            (
                "offsetof(struct sched_shutdown, reason)",
                offset_of!(SchedShutdown, reason),
            ),
            ("sizeof(struct sched_poll)", size_of::<SchedPoll>()),
            ("offsetof(struct sched_poll, ports)", offset_of!(SchedPoll, ports)),
            ("offsetof(struct sched_poll, nr_ports)", offset_of!(SchedPoll, nr_ports)),
            ("offsetof(struct sched_poll, timeout)", offset_of!(SchedPoll, timeout)),
        ],
    );
}

#[test]
fn credit_scheduler_parameters_match_the_domctl_header() {
    use xen_abi::sched::*;
    // domctl.h is the toolstack's interface: visible only to its builds.
    let mut p = Probe::new(&["xen/xen.h", "xen/domctl.h"]);
    p.define("__XEN_TOOLS__");
    constants!(p, XEN_SCHEDULER_CREDIT);
    layout!(p, "struct xen_domctl_sched_credit", XenDomctlSchedCredit {
        "weight" => weight,
        "cap" => cap,
    });
    p.run();
}

#[test]
fn the_ring_header_matches_define_ring_types() {
    use xen_abi::ring::SringHeader;
    // Any DEFINE_RING_TYPES instance has the header: blkif's, say.
    let mut p = Probe::new(&["xen/xen.h", "xen/io/blkif.h"]);
    for (field, offset) in [
        ("req_prod", offset_of!(SringHeader, req_prod)),
        ("req_event", offset_of!(SringHeader, req_event)),
        ("rsp_prod", offset_of!(SringHeader, rsp_prod)),
        ("rsp_event", offset_of!(SringHeader, rsp_event)),
        ("pvt", offset_of!(SringHeader, pvt)),
        ("__pad", offset_of!(SringHeader, _pad)),
        ("ring", size_of::<SringHeader>()),
    ] {
        p.value(format!("offsetof(struct blkif_sring, {field})"), offset);
    }
    let zero = <SringHeader as zerocopy::FromZeros>::new_zeroed();
    p.value("sizeof(((struct blkif_sring *)0)->pvt)", size_of_val(&zero.pvt));
    p.value("sizeof(((struct blkif_sring *)0)->__pad)", size_of_val(&zero._pad));
    p.run();
}
