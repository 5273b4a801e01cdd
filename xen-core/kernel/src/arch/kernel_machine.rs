//! The real machine under the portable code: xen-core's `Platform` (what
//! hypercalls need) and `Machine` (what the scheduling loop needs) over
//! this CPU, its memory and devices.

use super::free_frames::{FRAMES, FreeFrames};
use super::guest_memory::CurrentGuestMemory;
use super::physical_memory::{DIRECT_MAP, DirectMap};
use super::serial::Serial;
use super::{clock, control_registers, fpu, lapic, machine_map, port_io, segment_base, segment_selectors};
use crate::arch::m2p::M2pWriter;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};
use xen_abi::memory::E820Entry;
use xen_core::arch::{Machine, Platform};
use xen_core::domain::data_selectors::{DataSelectors, SavedSegments};
use xen_core::domain::vcpu::{FpuArea, RegistersToLoad};
use xen_core::log_level::LogLevel;
use xen_core::mm::Mfn;
use xen_core::time::time_scale::TimeScale;
use xen_core::time::vcpu_time::ClockReading;
use xen_core::trap_frame::TrapFrame;

/// Set when console input was signalled, cleared when dom0 reads the
/// console: one VIRQ_CONSOLE per batch of input, not one per scheduling
/// pass while dom0 has not read it.
static CONSOLE_SIGNALLED: AtomicBool = AtomicBool::new(false);

/// The real machine, while a guest's page tables (or the idle ones) are
/// loaded.
pub struct KernelMachine {
    guest: CurrentGuestMemory,
    memory: DirectMap,
    m2p: M2pWriter,
    allocator: FreeFrames,
}

impl KernelMachine {
    /// The machine as the current trap sees it.
    #[inline(always)]
    pub fn new() -> Self {
        KernelMachine {
            guest: CurrentGuestMemory,
            memory: DIRECT_MAP,
            m2p: M2pWriter,
            allocator: FreeFrames,
        }
    }
}

impl Platform for KernelMachine {
    type Guest = CurrentGuestMemory;
    type Memory = DirectMap;
    type M2p = M2pWriter;

    fn guest(&mut self) -> &mut CurrentGuestMemory {
        &mut self.guest
    }

    fn memory(&mut self) -> &mut DirectMap {
        &mut self.memory
    }

    fn memory_parts(&mut self) -> (&mut DirectMap, &mut CurrentGuestMemory, &mut M2pWriter) {
        (&mut self.memory, &mut self.guest, &mut self.m2p)
    }

    fn now_ns(&mut self) -> u64 {
        clock::now_ns()
    }

    fn console_write(&mut self, bytes: &[u8]) {
        let serial = crate::arch::console::lock();
        for &byte in bytes {
            if byte == b'\n' {
                serial.write_byte(b'\r');
            }
            serial.write_byte(byte);
        }
    }

    fn console_read(&mut self, out: &mut [u8]) -> usize {
        // Input that is still there after this read is signalled again.
        CONSOLE_SIGNALLED.store(false, Ordering::Relaxed);
        let serial = Serial::COM1;
        let mut count = 0;
        while count < out.len() {
            match serial.try_read_byte() {
                Some(byte) => {
                    out[count] = byte;
                    count += 1;
                }
                None => break,
            }
        }
        count
    }

    fn port_write(&mut self, port: u16, size: u8, value: u32) {
        port_io::write(port, size, value);
    }

    fn port_read(&mut self, port: u16, size: u8) -> u32 {
        port_io::read(port, size)
    }

    fn allocate_extent(&mut self, order: u32, limit: Mfn) -> Option<Mfn> {
        FRAMES.lock().allocate_extent(order, limit)
    }

    fn free_frame(&mut self, mfn: Mfn) -> bool {
        FRAMES.lock().free(mfn).is_ok()
    }

    fn machine_map_entry(&mut self, index: usize) -> Option<E820Entry> {
        machine_map::entry(index)
    }

    fn m2p_extent(&mut self, index: usize) -> Option<Mfn> {
        super::m2p::M2P.lock().extent(index)
    }
}

impl Machine for KernelMachine {
    type Allocator = FreeFrames;

    fn save_fpu(&mut self, area: &mut FpuArea) {
        fpu::save(area);
    }

    fn restore_fpu(&mut self, area: &FpuArea) {
        fpu::restore(area);
    }

    #[inline(never)]
    fn load_registers(&mut self, registers: RegistersToLoad) {
        segment_base::load(registers.fs_base, registers.gs_base, registers.gs_base_other);
        fpu::set_task_switched(registers.fpu_task_switched);
        control_registers::load_debug_registers(registers.debug);
    }

    fn swap_gs(&mut self) {
        segment_base::swap_gs();
    }

    fn save_segments(&mut self) -> SavedSegments {
        segment_selectors::save()
    }

    fn load_selectors(&mut self, selectors: DataSelectors) {
        segment_selectors::load(selectors);
    }

    fn arm_timer(&mut self, deadline: Option<u64>) {
        match deadline {
            Some(deadline) => clock::arm_timer_at(deadline),
            None => lapic::disarm(),
        }
    }

    fn end_timer_interrupt(&mut self) {
        lapic::end_of_interrupt();
    }

    fn wait_for_interrupt(&mut self) {
        lapic::wait_for_interrupt();
    }

    fn take_console_input_signal(&mut self) -> bool {
        if CONSOLE_SIGNALLED.load(Ordering::Relaxed) || !Serial::COM1.input_waiting() {
            return false;
        }
        CONSOLE_SIGNALLED.store(true, Ordering::Relaxed);
        true
    }

    fn clock(&mut self) -> (ClockReading, TimeScale) {
        let scale = clock::calibrate().scale;
        (clock::reading(), scale)
    }

    fn memory_and_allocator(&mut self) -> (&mut DirectMap, &mut FreeFrames) {
        (&mut self.memory, &mut self.allocator)
    }

    fn cpuid(&mut self, leaf: u32, subleaf: u32) -> [u32; 4] {
        super::cpu_id::cpuid(leaf, subleaf)
    }

    fn debug_status(&mut self) -> u64 {
        control_registers::guest_debug_status()
    }

    fn fault_address(&mut self) -> u64 {
        control_registers::cr2()
    }

    fn log(&mut self, level: LogLevel, message: fmt::Arguments<'_>) {
        crate::arch::console::log(level, message);
    }

    fn report_hypervisor_fault(&mut self, frame: &TrapFrame) -> ! {
        crate::arch::crash_report::report_exception(frame)
    }
}
