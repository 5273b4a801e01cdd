//! The guest SDK: everything a Xen x86_64 PV guest kernel needs to start,
//! print, take its own exceptions and shut down, on xen-core or on real Xen.
//!
//! A guest kernel is a small `no_std`, `no_main` crate:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use guest_sdk::{println, start_info::StartInfo};
//!
//! fn main(info: &'static StartInfo) -> ! {
//!     println!("hello from {} pages", info.nr_pages);
//!     guest_sdk::sched::power_off()
//! }
//! guest_sdk::entry!(main);
//! ```
//!
//! The SDK supplies the Xen ELF notes, the entry point, the hypercall page, a
//! panic handler that shuts the domain down with reason `crash`, and
//! exception stubs that hand guest exceptions to Rust handlers
//! ([`traps::install`]). Hypercall wrappers return `Result<_, XenError>`.
//! Everything that touches registers or raw memory lives in `arch`, built
//! only for bare metal; on the host the crate compiles (and its logic is
//! tested) without it.
#![no_std]
#![deny(unsafe_code)]

#[cfg(target_os = "none")]
mod arch;
pub mod balloon;
pub mod boot_module;
pub mod console;
pub mod control_registers;
pub mod cpuid;
pub mod debug_exit;
pub mod descriptor_table;
pub mod event_channel;
pub mod fault;
pub mod grant_table;
pub mod hypercall;
pub mod memory;
pub mod msr;
pub mod page_table;
pub mod pv_console;
pub mod sched;
pub mod segments;
pub mod shared_area;
pub mod shared_info;
pub mod start_info;
pub mod time;
pub mod trap_frame;
pub mod traps;
pub mod upcall;
pub mod user;
pub mod xen_error;
pub mod xenbus;
pub mod xenstore;

pub use xen_error::XenError;

/// Names the guest kernel's `main(&'static StartInfo) -> !`, which the SDK's
/// entry point calls once the stack and console are ready.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// Called by the guest SDK's entry point.
        #[unsafe(export_name = "guest_sdk_main")]
        extern "Rust" fn __guest_sdk_main(info: &'static $crate::start_info::StartInfo) -> ! {
            $main(info)
        }
    };
}
