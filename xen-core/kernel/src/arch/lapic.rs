//! The local APIC: its one-shot timer, which drives scheduling and guest
//! timers, and the end-of-interrupt write.
//!
//! Reached through its MMIO page, mapped uncached in the direct-map range at
//! the address the APIC base MSR gives (QEMU 7.2's TCG has no x2APIC).

use super::physical_memory::DIRECT_MAP;
use x86_64::registers::model_specific::Msr;
use xen_core::arch::FrameSource;
use xen_core::mm::hypervisor_page_table::{HypervisorPageTable, MapError, PageSize, PteFlags};
use xen_core::mm::layout::DIRECT_MAP_BASE;

/// Vector of the timer interrupt.
pub use xen_core::trap_frame::TIMER_VECTOR;
/// Vector of the APIC's spurious interrupt.
pub const SPURIOUS_VECTOR: u8 = 0xff;

const IA32_APIC_BASE: u32 = 0x1b;
const APIC_GLOBAL_ENABLE: u64 = 1 << 11;
const BASE_MASK: u64 = 0x000f_ffff_ffff_f000;

const EOI: u64 = 0xb0;
const SPURIOUS: u64 = 0xf0;
const LVT_TIMER: u64 = 0x320;
const INITIAL_COUNT: u64 = 0x380;
const CURRENT_COUNT: u64 = 0x390;
const DIVIDE_CONFIG: u64 = 0x3e0;
/// Divide configuration value for "divide by 1".
const DIVIDE_BY_1: u32 = 0b1011;
const LVT_MASKED: u32 = 1 << 16;
const SOFTWARE_ENABLE: u32 = 1 << 8;
/// Page-table bits 3 and 4: write-through and cache-disable, for MMIO.
const UNCACHED: u64 = (1 << 3) | (1 << 4);

/// The APIC's physical base, from its MSR.
fn physical_base() -> u64 {
    // SAFETY: reading IA32_APIC_BASE has no side effects; every x86_64 CPU has it.
    unsafe { Msr::new(IA32_APIC_BASE).read() }
}

fn register(offset: u64) -> *mut u32 {
    (DIRECT_MAP_BASE + (physical_base() & BASE_MASK) + offset) as *mut u32
}

fn write(offset: u64, value: u32) {
    // SAFETY: `map` mapped the APIC page uncached at this address before any
    // register is touched; APIC registers are 32-bit and 16-byte aligned.
    unsafe { register(offset).write_volatile(value) }
}

fn read(offset: u64) -> u32 {
    // SAFETY: as for `write`.
    unsafe { register(offset).read_volatile() }
}

/// Maps the APIC's page, enables it with the timer masked.
pub fn init(table: &mut HypervisorPageTable, frames: &mut impl FrameSource) -> Result<(), MapError> {
    let base = physical_base();
    if base & APIC_GLOBAL_ENABLE == 0 {
        // SAFETY: setting the global enable bit at the same base turns on
        // the APIC the firmware left off; nothing else changes.
        unsafe { Msr::new(IA32_APIC_BASE).write(base | APIC_GLOBAL_ENABLE) };
    }
    let physical = base & BASE_MASK;
    let flags = PteFlags::WRITABLE | PteFlags::NO_EXECUTE | PteFlags::from_bits_retain(UNCACHED);
    let mut memory = DIRECT_MAP;
    table.map(
        &mut memory,
        frames,
        DIRECT_MAP_BASE + physical,
        physical,
        PageSize::Small,
        flags,
    )?;
    write(SPURIOUS, SOFTWARE_ENABLE | u32::from(SPURIOUS_VECTOR));
    write(DIVIDE_CONFIG, DIVIDE_BY_1);
    write(LVT_TIMER, LVT_MASKED | u32::from(TIMER_VECTOR));
    Ok(())
}

/// Starts the timer counting down from `ticks` with its interrupt masked
/// (for calibration); read it back with [`current_count`].
pub fn start_masked(ticks: u32) {
    write(LVT_TIMER, LVT_MASKED | u32::from(TIMER_VECTOR));
    write(INITIAL_COUNT, ticks);
}

/// The timer's current count.
pub fn current_count() -> u32 {
    read(CURRENT_COUNT)
}

/// Raises [`TIMER_VECTOR`] once, `ticks` timer ticks from now (at least 1).
pub fn arm(ticks: u32) {
    write(LVT_TIMER, u32::from(TIMER_VECTOR));
    write(INITIAL_COUNT, ticks.max(1));
}

/// Stops the timer.
pub fn disarm() {
    write(INITIAL_COUNT, 0);
}

/// Signals the end of the interrupt being handled.
pub fn end_of_interrupt() {
    write(EOI, 0);
}

/// Halts until an interrupt arrives (the idle loop): interrupts are enabled
/// for the `hlt` only, so the handler runs and returns here with them off.
pub fn wait_for_interrupt() {
    x86_64::instructions::interrupts::enable_and_hlt();
    x86_64::instructions::interrupts::disable();
}
