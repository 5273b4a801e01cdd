//! The xen-core hypervisor image.
//!
//! Booted by a PVH loader (QEMU's `-kernel`), linked inside Xen's reserved virtual
//! range. This crate stays thin: it is the x86_64 side of the arch seam ([`arch`],
//! where all unsafe code lives) plus the boot sequence that drives the portable
//! logic of the `xen-core` library.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

// `console` first: its logging macros must be defined before the modules using them.
#[macro_use]
mod console;
mod arch;
mod boot;
mod crash_report;
mod debug_trap;
mod m2p;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crash_report::report_panic(info)
}
