//! Scheduling: which vCPU runs on a CPU, for how long, and what wakes one.
//!
//! [`run_state`] is a vCPU's own state (runnable, blocked, polling);
//! [`credit`] shares CPU time between runnable vCPUs by weight, with an
//! optional cap. The kernel calls them from its timer interrupt and from
//! the hypercalls that give up the CPU.

pub mod cpu;
pub mod credit;
pub mod run_state;

pub use cpu::Cpu;
pub use credit::{CreditScheduler, SchedEntity, SchedParams};
pub use run_state::RunState;
