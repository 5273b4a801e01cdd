//! The xen-core hypervisor image.
//!
//! Booted by a PVH loader (QEMU's `-kernel`), linked inside Xen's reserved virtual
//! range. This crate stays thin: everything in it is the x86_64 side of the arch seam
//! ([`arch`]): the boot sequence that brings the machine up, the entry code, the
//! one dispatch file that hands guests' traps to the portable hypervisor
//! (`xen_core::hypervisor`), and the implementations of xen-core's machine traits.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod arch;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    arch::crash_report::report_panic(info)
}
