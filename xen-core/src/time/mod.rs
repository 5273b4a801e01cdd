//! Virtual time: converting the TSC to system time, publishing it to guests,
//! and the per-vCPU timers that raise VIRQ_TIMER.

pub mod time_scale;
pub mod vcpu_time;
pub mod vcpu_timers;

pub use time_scale::TimeScale;
pub use vcpu_time::{ClockReading, Wallclock};
pub use vcpu_timers::VcpuTimers;
