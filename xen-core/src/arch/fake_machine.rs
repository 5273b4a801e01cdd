//! A fake CPU for host tests of the scheduling loop: a clock that moves
//! only when the loop halts, a one-shot timer, FPU registers, console input
//! and a log, over the fake platform of [`super::fake`].

use super::fake::{FakeGuestMemory, FakeM2p, FakeMemory, FakePlatform};
use super::*;
use crate::domain::data_selectors::{DataSelectors, SavedSegments};
use crate::domain::vcpu::{FpuArea, RegistersToLoad};
use crate::log_level::LogLevel;
use crate::time::time_scale::TimeScale;
use crate::time::vcpu_time::ClockReading;
use crate::trap_frame::TrapFrame;
use core::fmt;
use std::string::{String, ToString};
use std::vec::Vec;

/// The frames given back to the allocator, in order.
#[derive(Default)]
pub struct FreedFrames {
    /// Every frame given back.
    pub frames: Vec<Mfn>,
}

impl FrameSink for FreedFrames {
    fn free_frame(&mut self, mfn: Mfn) -> bool {
        let fresh = !self.frames.contains(&mfn);
        self.frames.push(mfn);
        fresh
    }
}

/// A fake CPU and its devices.
#[derive(Default)]
pub struct FakeMachine {
    /// Memory, guest memory, console, clock (`platform.now`).
    pub platform: FakePlatform,
    /// The FPU registers as they are on the CPU now.
    pub fpu: FpuArea,
    /// When the timer fires, if armed.
    pub timer: Option<u64>,
    /// Timer interrupts acknowledged.
    pub timer_interrupts: u32,
    /// Halts, each until the timer fired.
    pub halts: u32,
    /// Console input that arrived and was not signalled yet.
    pub console_input: bool,
    /// Registers loaded on returns to guests, in order.
    pub loaded: Vec<RegistersToLoad>,
    /// The CPU's GS base and shadow GS base, as loads and swaps left them.
    pub gs_bases: (u64, u64),
    /// The CPU's FS base, as loads left it.
    pub fs_base: u64,
    /// DS, ES, FS and GS as loads left them (a test stands in for the
    /// guest's own loads by writing them).
    pub selectors: DataSelectors,
    /// What freed frames went back to.
    pub freed: FreedFrames,
    /// The host's CPUID leaves (`None`: every leaf zero).
    pub host_cpuid: Option<fn(u32, u32) -> [u32; 4]>,
    /// DR6 at the last #DB.
    pub dr6: u64,
    /// CR2: where the last page fault was.
    pub cr2: u64,
    /// Every log line, with its level.
    pub log: Vec<(LogLevel, String)>,
}

impl FakeMachine {
    /// Whether some log line contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        self.log.iter().any(|(_, line)| line.contains(text))
    }
}

impl Platform for FakeMachine {
    type Guest = FakeGuestMemory;
    type Memory = FakeMemory;
    type M2p = FakeM2p;

    fn guest(&mut self) -> &mut FakeGuestMemory {
        self.platform.guest()
    }

    fn memory(&mut self) -> &mut FakeMemory {
        self.platform.memory()
    }

    fn memory_parts(&mut self) -> (&mut FakeMemory, &mut FakeGuestMemory, &mut FakeM2p) {
        self.platform.memory_parts()
    }

    fn now_ns(&mut self) -> u64 {
        self.platform.now
    }

    fn console_write(&mut self, bytes: &[u8]) {
        self.platform.console_write(bytes);
    }

    fn console_read(&mut self, out: &mut [u8]) -> usize {
        self.platform.console_read(out)
    }

    fn port_write(&mut self, port: u16, size: u8, value: u32) {
        self.platform.port_write(port, size, value);
    }

    fn port_read(&mut self, port: u16, size: u8) -> u32 {
        self.platform.port_read(port, size)
    }

    fn allocate_extent(&mut self, order: u32, limit: Mfn) -> Option<Mfn> {
        self.platform.allocate_extent(order, limit)
    }

    fn free_frame(&mut self, mfn: Mfn) -> bool {
        self.platform.free_frame(mfn)
    }

    fn machine_map_entry(&mut self, index: usize) -> Option<xen_abi::memory::E820Entry> {
        self.platform.machine_map_entry(index)
    }

    fn m2p_extent(&mut self, index: usize) -> Option<Mfn> {
        self.platform.m2p_extent(index)
    }
}

impl Machine for FakeMachine {
    type Allocator = FreedFrames;

    fn save_fpu(&mut self, area: &mut FpuArea) {
        *area = self.fpu;
    }

    fn restore_fpu(&mut self, area: &FpuArea) {
        self.fpu = *area;
    }

    fn load_registers(&mut self, registers: RegistersToLoad) {
        self.gs_bases = (registers.gs_base, registers.gs_base_other);
        self.fs_base = registers.fs_base;
        self.loaded.push(registers);
    }

    fn swap_gs(&mut self) {
        self.gs_bases = (self.gs_bases.1, self.gs_bases.0);
    }

    fn save_segments(&mut self) -> SavedSegments {
        SavedSegments {
            selectors: self.selectors,
            fs_base: self.fs_base,
            gs_base: self.gs_bases.0,
        }
    }

    fn load_selectors(&mut self, selectors: DataSelectors) {
        self.selectors = selectors;
    }

    fn arm_timer(&mut self, deadline: Option<u64>) {
        self.timer = deadline;
    }

    fn end_timer_interrupt(&mut self) {
        self.timer_interrupts += 1;
    }

    /// Jumps the clock to the timer's deadline. A halt with no timer armed
    /// and no input coming would never end: the test fails.
    fn wait_for_interrupt(&mut self) {
        let deadline = self
            .timer
            .take()
            .expect("halted with no timer armed: the CPU would sleep forever");
        self.platform.now = self.platform.now.max(deadline);
        self.halts += 1;
        assert!(self.halts < 10_000, "the loop keeps halting without running anything");
    }

    fn take_console_input_signal(&mut self) -> bool {
        core::mem::take(&mut self.console_input)
    }

    fn clock(&mut self) -> (ClockReading, TimeScale) {
        let reading = ClockReading {
            tsc: self.platform.now,
            system_time: self.platform.now,
        };
        (reading, TimeScale { mul: 1 << 31, shift: 1 })
    }

    fn memory_and_allocator(&mut self) -> (&mut FakeMemory, &mut FreedFrames) {
        (&mut self.platform.memory, &mut self.freed)
    }

    fn cpuid(&mut self, leaf: u32, subleaf: u32) -> [u32; 4] {
        self.host_cpuid.map_or([0; 4], |cpuid| cpuid(leaf, subleaf))
    }

    fn debug_status(&mut self) -> u64 {
        self.dr6
    }

    fn fault_address(&mut self) -> u64 {
        self.cr2
    }

    fn log(&mut self, level: LogLevel, message: fmt::Arguments<'_>) {
        self.log.push((level, message.to_string()));
    }

    fn report_hypervisor_fault(&mut self, frame: &TrapFrame) -> ! {
        panic!("hypervisor fault: vector {} at rip {:#x}", frame.vector, frame.rip)
    }
}
