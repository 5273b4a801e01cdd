//! The portable xen-core hypervisor.
//!
//! Everything here is policy and logic that runs the same on bare metal and under
//! `cargo test` on the host: the kernel image (`xen-core/kernel`) supplies the
//! hardware side through the traits of [`arch`]. Today it holds the boot-time
//! pieces: the command line, the physical memory map and its reservations, the
//! frame allocator, the hypervisor's own page tables and the boot bundle reader.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod arch;
pub mod boot;
pub mod cpuid;
pub mod debug_exit;
pub mod domain;
pub mod event;
pub mod exception_vector;
pub mod grant;
pub mod guest_copy;
pub mod hypercall;
pub mod hypervisor;
pub mod log_level;
pub mod mm;
pub mod rflags;
pub mod sched;
pub mod time;
pub mod trap_frame;
