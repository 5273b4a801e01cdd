//! The Xen x86_64 PV interface, defined once.
//!
//! Every number and every struct a guest, the hypervisor or a boot loader can see
//! lives here and nowhere else: guest-side and hypervisor-side code both import it.
//! Layouts are `#[repr(C)]` zerocopy types whose field offsets are asserted at
//! compile time and compared with Debian's `libxen-dev` headers in `tests/`.
//! No logic and no unsafe code belong in this crate.
#![no_std]
#![forbid(unsafe_code)]

pub mod elfnote;
pub mod hvm_start_info;
pub mod hypercall;
pub mod sched;
