//! The CPU as the scheduling loop sees it: what a switch between vCPUs, an
//! idle CPU and the end of a run need beyond what hypercalls need.

use super::{FrameSink, Platform};
use crate::domain::data_selectors::{DataSelectors, SavedSegments};
use crate::domain::vcpu::{FpuArea, RegistersToLoad};
use crate::log_level::LogLevel;
use crate::time::time_scale::TimeScale;
use crate::time::vcpu_time::ClockReading;
use crate::trap_frame::TrapFrame;
use core::fmt;

/// The machine under the scheduling loop ([`crate::hypervisor`]): the
/// kernel implements it over one real CPU, host tests over a fake one
/// whose clock moves only when the loop halts.
pub trait Machine: Platform {
    /// Saves the FPU and SSE registers of the vCPU leaving the CPU.
    fn save_fpu(&mut self, area: &mut FpuArea);
    /// Loads the FPU and SSE registers of the vCPU coming onto the CPU.
    fn restore_fpu(&mut self, area: &FpuArea);
    /// Loads the registers a guest sets through hypercalls (segment bases,
    /// CR0.TS) that a return to the guest does not restore by itself.
    fn load_registers(&mut self, registers: RegistersToLoad);
    /// Trades the GS base and the shadow GS base (`swapgs`): the guest
    /// changed mode, and [`Machine::load_registers`] left the other mode's
    /// base in the shadow.
    fn swap_gs(&mut self);
    /// Reads what the vCPU leaving the CPU left in DS, ES, FS and GS: the
    /// selectors, the FS base and the (active) GS base.
    fn save_segments(&mut self) -> SavedSegments;
    /// Loads DS, ES, FS and GS for the vCPU coming onto the CPU, each one
    /// checked loadable ([`crate::domain::pv_domain::PvDomain::
    /// loadable_selectors`]); the bases follow with
    /// [`Machine::load_registers`], as a selector load replaces them.
    fn load_selectors(&mut self, selectors: DataSelectors);
    /// Arms the one-shot timer for system time `deadline`, or disarms it.
    fn arm_timer(&mut self, deadline: Option<u64>);
    /// Acknowledges the timer interrupt that ended a guest's run.
    fn end_timer_interrupt(&mut self);
    /// Halts until an interrupt (the timer, console input) arrives.
    fn wait_for_interrupt(&mut self);
    /// Whether console input arrived that has not been signalled yet: true
    /// once per batch, until dom0 reads the console
    /// ([`Platform::console_read`]).
    fn take_console_input_signal(&mut self) -> bool;
    /// A reading of the clock for a guest's `vcpu_time_info`, and the
    /// scale from TSC ticks to nanoseconds.
    fn clock(&mut self) -> (ClockReading, TimeScale);
    /// Where freed frames go back to.
    type Allocator: FrameSink;
    /// Physical memory and the frame allocator at once, which giving back a
    /// dead domain's memory needs.
    fn memory_and_allocator(&mut self) -> (&mut Self::Memory, &mut Self::Allocator);
    /// The host CPU's own `cpuid` for `leaf` and `subleaf`: EAX, EBX, ECX,
    /// EDX (what guests see of it is `crate::cpuid`'s to decide).
    fn cpuid(&mut self, leaf: u32, subleaf: u32) -> [u32; 4];
    /// The CPU's DR6 at the last #DB a guest raised: what caused it.
    fn debug_status(&mut self) -> u64;
    /// The address of the last page fault (CR2).
    fn fault_address(&mut self) -> u64;
    /// Prints one log line at `level`.
    fn log(&mut self, level: LogLevel, message: fmt::Arguments<'_>);
    /// A trap from a guest while no guest is on the CPU: a hypervisor bug.
    /// Reports it and ends the run.
    fn report_hypervisor_fault(&mut self, frame: &TrapFrame) -> !;
}
