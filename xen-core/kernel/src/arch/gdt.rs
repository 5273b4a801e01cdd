//! The hypervisor's GDT and TSS, with Xen's selectors.
//!
//! PV guests are entitled to Xen's flat ring-3 selectors (0xe023, 0xe02b, 0xe033)
//! in every CPU's GDT, at indexes 7172–7174 in the reserved pages from 14 on, in
//! the order `sysret` needs (CS32, DS, CS64 from STAR[63:48] = 0xe023). The
//! hypervisor's own selectors sit in the reserved range too, as in Xen.

use core::ptr::addr_of;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, FS, GS, SS, Segment};
use x86_64::instructions::tables::{lgdt, load_tss};
use x86_64::registers::segmentation::SegmentSelector;
use x86_64::structures::DescriptorTablePointer;

/// Hypervisor 64-bit code (`__HYPERVISOR_CS`).
pub const HYPERVISOR_CS: u16 = 0xe008;
/// Hypervisor data and stack (`__HYPERVISOR_DS32`).
pub const HYPERVISOR_DS: u16 = 0xe010;
/// Guest 32-bit code, the base `sysret` computes from (`FLAT_RING3_CS32`).
pub const FLAT_RING3_CS32: u16 = 0xe023;
/// Guest data and stack (`FLAT_RING3_DS32` = `FLAT_KERNEL_SS`).
pub const FLAT_RING3_DS: u16 = 0xe02b;
/// Guest 64-bit code (`FLAT_KERNEL_CS`).
pub const FLAT_RING3_CS64: u16 = 0xe033;
/// The TSS (two slots, as Xen places it).
pub const TSS_SELECTOR: u16 = 0xe040;

/// Entries: up to and including the TSS's second slot.
const GDT_ENTRIES: usize = (TSS_SELECTOR as usize >> 3) + 2;

/// The 64-bit task-state segment: stacks for privilege changes and for the IST.
#[repr(C, packed(4))]
pub struct TaskStateSegment {
    reserved0: u32,
    /// Stacks loaded on entry to rings 0–2.
    pub privilege_stacks: [u64; 3],
    reserved1: u64,
    /// Interrupt stack table: stacks an IDT gate can select (index 1–7).
    pub interrupt_stacks: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    /// Offset of the I/O permission bitmap; past the end = none.
    pub io_map_base: u16,
}

/// IST slot (1-based, as gates count) used by #DF, NMI and #MC.
pub const CRITICAL_IST: u8 = 1;

#[repr(C, align(16))]
struct Gdt([u64; GDT_ENTRIES]);

static mut GDT: Gdt = Gdt([0; GDT_ENTRIES]);
static mut TSS: TaskStateSegment = TaskStateSegment {
    reserved0: 0,
    privilege_stacks: [0; 3],
    reserved1: 0,
    interrupt_stacks: [0; 7],
    reserved2: 0,
    reserved3: 0,
    io_map_base: core::mem::size_of::<TaskStateSegment>() as u16,
};

unsafe extern "C" {
    static __boot_stack_top: u8;
    static __ist_stack_top: u8;
}

/// Builds the GDT and TSS, loads them and reloads every segment register.
///
/// Called once, early, on the boot CPU, before interrupts are ever enabled.
pub fn init() {
    let tss_base = &raw const TSS as u64;
    let tss_limit = core::mem::size_of::<TaskStateSegment>() as u64 - 1;
    let tss_low = (tss_limit & 0xffff)
        | (tss_base & 0xff_ffff) << 16
        | 0x89 << 40 // present, 64-bit TSS (available)
        | ((tss_limit >> 16) & 0xf) << 48
        | ((tss_base >> 24) & 0xff) << 56;
    // SAFETY: boot is single-threaded and nothing has loaded these tables yet, so
    // no other reference to GDT or TSS exists while they are written.
    unsafe {
        let gdt = &mut (*(&raw mut GDT)).0;
        gdt[usize::from(HYPERVISOR_CS >> 3)] = 0x00af_9b00_0000_ffff;
        gdt[usize::from(HYPERVISOR_DS >> 3)] = 0x00cf_9300_0000_ffff;
        gdt[usize::from(FLAT_RING3_CS32 >> 3)] = 0x00cf_fb00_0000_ffff;
        gdt[usize::from(FLAT_RING3_DS >> 3)] = 0x00cf_f300_0000_ffff;
        gdt[usize::from(FLAT_RING3_CS64 >> 3)] = 0x00af_fb00_0000_ffff;
        gdt[usize::from(TSS_SELECTOR >> 3)] = tss_low;
        gdt[usize::from(TSS_SELECTOR >> 3) + 1] = tss_base >> 32;
        let tss = &mut *(&raw mut TSS);
        tss.privilege_stacks[0] = addr_of!(__boot_stack_top) as u64;
        tss.interrupt_stacks[usize::from(CRITICAL_IST - 1)] = addr_of!(__ist_stack_top) as u64;
    }
    let pointer = DescriptorTablePointer {
        limit: (GDT_ENTRIES * 8 - 1) as u16,
        base: VirtAddr::new(&raw const GDT as u64),
    };
    // SAFETY: the table is static, so it outlives every use; its code and data
    // descriptors are valid flat 64-bit segments, so reloading CS and SS with them
    // keeps executing the same code on the same stack; the TSS descriptor points at
    // the static TSS.
    unsafe {
        lgdt(&pointer);
        CS::set_reg(SegmentSelector(HYPERVISOR_CS));
        SS::set_reg(SegmentSelector(HYPERVISOR_DS));
        for null in [DS::set_reg, ES::set_reg, FS::set_reg, GS::set_reg] {
            null(SegmentSelector(0));
        }
        load_tss(SegmentSelector(TSS_SELECTOR));
    }
}
