//! The hypervisor's GDT and TSS, with Xen's selectors.
//!
//! PV guests are entitled to Xen's flat ring-3 selectors (`FLAT_RING3_*` of
//! `arch-x86/xen-x86_64.h`, from `xen_abi::trap`) in every CPU's GDT, at
//! indexes 7172–7174 in the reserved pages from 14 on, in the order `sysret`
//! needs (CS32, DS, CS64 from STAR[63:48] = `FLAT_RING3_CS32`). The
//! hypervisor's own selectors sit in the reserved range too, as in Xen.

use super::stacks::Stack;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, FS, GS, SS, Segment};
use x86_64::instructions::tables::{lgdt, load_tss};
use x86_64::registers::segmentation::SegmentSelector;
use x86_64::structures::DescriptorTablePointer;
use xen_abi::trap::{
    FIRST_RESERVED_GDT_ENTRY, FIRST_RESERVED_GDT_PAGE, FLAT_RING3_CS32, FLAT_RING3_CS64, FLAT_RING3_DS32,
};
use xen_core::mm::descriptor_window::GDT_LIMIT;
use xen_core::mm::layout::{DESCRIPTOR_WINDOW, HYPERVISOR_IMAGE_BASE};

/// Hypervisor 64-bit code (`__HYPERVISOR_CS`).
pub const HYPERVISOR_CS: u16 = 0xe008;
/// Hypervisor data and stack (`__HYPERVISOR_DS32`).
pub const HYPERVISOR_DS: u16 = 0xe010;
/// The TSS (two slots, as Xen places it).
pub const TSS_SELECTOR: u16 = 0xe040;
/// The running guest's LDT (two slots, as Xen places it).
pub const LDT_SELECTOR: u16 = 0xe050;

// Every selector lies in the GDT pages Xen reserves for itself.
const _: () = assert!(HYPERVISOR_CS as usize >> 3 >= FIRST_RESERVED_GDT_ENTRY);

/// Entries: the guest's 14 pages (empty here; a guest's own show through
/// the descriptor window) and the whole reserved page, so that no selector
/// below the limit reaches past the table.
const GDT_ENTRIES: usize = (FIRST_RESERVED_GDT_PAGE + 1) * 512;
// The TSS's two slots fit in the reserved page.
const _: () = assert!((TSS_SELECTOR as usize >> 3) + 2 <= GDT_ENTRIES);
const _: () = assert!((LDT_SELECTOR as usize >> 3) + 2 <= GDT_ENTRIES);

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

/// IST slot (1-based, as gates count) used by #DF.
pub const DOUBLE_FAULT_IST: u8 = 1;
/// IST slot used by NMI.
pub const NMI_IST: u8 = 2;
/// IST slot used by #MC.
pub const MACHINE_CHECK_IST: u8 = 3;
/// IST slot used by #DB.
pub const DEBUG_IST: u8 = 4;

/// 60 KiB of descriptors, written in place: building it as a value would put it
/// on the 64 KiB boot stack. Atomics because the CPU itself writes the TSS busy
/// bit into it. Page-aligned: its page 14 is mapped into the descriptor
/// window.
#[repr(C, align(4096))]
struct Gdt([AtomicU64; GDT_ENTRIES]);

static GDT: Gdt = Gdt([const { AtomicU64::new(0) }; GDT_ENTRIES]);
static TSS: Once<TaskStateSegment> = Once::new();

impl TaskStateSegment {
    /// A TSS with the boot stack for ring-0 entry and the IST stacks.
    fn new() -> Self {
        let mut interrupt_stacks = [0; 7];
        for (slot, stack) in [
            (DOUBLE_FAULT_IST, Stack::DoubleFault),
            (NMI_IST, Stack::Nmi),
            (MACHINE_CHECK_IST, Stack::MachineCheck),
            (DEBUG_IST, Stack::Debug),
        ] {
            interrupt_stacks[usize::from(slot - 1)] = stack.top();
        }
        TaskStateSegment {
            reserved0: 0,
            privilege_stacks: [Stack::Boot.top(), 0, 0],
            reserved1: 0,
            interrupt_stacks,
            reserved2: 0,
            reserved3: 0,
            io_map_base: core::mem::size_of::<TaskStateSegment>() as u16,
        }
    }
}

impl Gdt {
    /// Writes Xen's selectors plus a 64-bit TSS descriptor for `tss`.
    fn fill(&self, tss: &'static TaskStateSegment) {
        let tss_base = tss as *const TaskStateSegment as u64;
        let tss_limit = core::mem::size_of::<TaskStateSegment>() as u64 - 1;
        let tss_low = (tss_limit & 0xffff)
            | (tss_base & 0xff_ffff) << 16
            | 0x89 << 40 // present, 64-bit TSS (available)
            | ((tss_limit >> 16) & 0xf) << 48
            | ((tss_base >> 24) & 0xff) << 56;
        let set =
            |selector: u16, descriptor: u64| self.0[usize::from(selector >> 3)].store(descriptor, Ordering::Relaxed);
        set(HYPERVISOR_CS, 0x00af_9b00_0000_ffff);
        set(HYPERVISOR_DS, 0x00cf_9300_0000_ffff);
        set(FLAT_RING3_CS32, 0x00cf_fb00_0000_ffff);
        set(FLAT_RING3_DS32, 0x00cf_f300_0000_ffff);
        set(FLAT_RING3_CS64, 0x00af_fb00_0000_ffff);
        set(TSS_SELECTOR, tss_low);
        set(TSS_SELECTOR + 8, tss_base >> 32);
    }
}

/// Builds the GDT and TSS, loads them and reloads every segment register.
///
/// Called once, early, on the boot CPU, before interrupts are ever enabled.
pub fn init() {
    let tss = TSS.call_once(TaskStateSegment::new);
    GDT.fill(tss);
    let pointer = DescriptorTablePointer {
        limit: (GDT_ENTRIES * 8 - 1) as u16,
        base: VirtAddr::new(&GDT as *const Gdt as u64),
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

/// The physical address of the GDT's reserved page (page 14), which the
/// descriptor window shows after a guest's own frames.
pub fn reserved_page_physical() -> u64 {
    &GDT as *const Gdt as u64 + (FIRST_RESERVED_GDT_PAGE as u64) * 4096 - HYPERVISOR_IMAGE_BASE
}

/// Points the GDT register at the descriptor window, once it is mapped:
/// the same reserved entries, and from now on the running guest's own.
pub fn use_window() {
    let pointer = DescriptorTablePointer {
        limit: GDT_LIMIT,
        base: VirtAddr::new(DESCRIPTOR_WINDOW),
    };
    // SAFETY: the window maps page 14 of the static GDT at the same offset,
    // so every selector in use (CS, SS, the TSS) reads the same descriptor
    // through it; pages 0-13 are empty until a guest's are loaded, and no
    // selector the hypervisor uses lies there.
    unsafe { lgdt(&pointer) };
}

/// Points the LDT register at `entries` descriptors at `base` (the
/// descriptor window's LDT pages), or at none.
pub fn load_ldt(base: u64, entries: u32) {
    if entries == 0 {
        // SAFETY: a null LDT selector: the guest has none.
        unsafe { core::arch::asm!("lldt {0:x}", in(reg) 0u16, options(nostack, preserves_flags)) };
        return;
    }
    let limit = u64::from(entries) * 8 - 1;
    let low = (limit & 0xffff)
        | (base & 0xff_ffff) << 16
        | 0x82 << 40 // present, LDT
        | ((limit >> 16) & 0xf) << 48
        | ((base >> 24) & 0xff) << 56;
    let index = usize::from(LDT_SELECTOR >> 3);
    GDT.0[index].store(low, Ordering::Relaxed);
    GDT.0[index + 1].store(base >> 32, Ordering::Relaxed);
    // SAFETY: the descriptor just written is a present LDT descriptor for
    // the window's LDT pages, hypervisor-only mappings whose absent pages
    // fault into the hypervisor's fault-in path; nothing but guest
    // selectors with TI set ever reads it.
    unsafe { core::arch::asm!("lldt {0:x}", in(reg) LDT_SELECTOR, options(nostack, preserves_flags)) };
}
