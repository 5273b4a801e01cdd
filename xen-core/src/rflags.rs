//! RFLAGS bits the hypervisor reads or forces in guest frames.

/// Trap flag (single-step).
pub const TF: u64 = 1 << 8;
/// Interrupt flag: always set while a guest runs (its virtual IF is the
/// event mask in `vcpu_info`).
pub const IF: u64 = 1 << 9;
/// Direction flag (string instructions count down).
pub const DF: u64 = 1 << 10;
/// I/O privilege level, two bits: always 0 for guests.
pub const IOPL: u64 = 3 << 12;
/// Nested task.
pub const NT: u64 = 1 << 14;
/// Resume flag.
pub const RF: u64 = 1 << 16;
/// Virtual-8086 mode.
pub const VM: u64 = 1 << 17;
/// Alignment check.
pub const AC: u64 = 1 << 18;
