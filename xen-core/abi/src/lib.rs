//! The Xen x86_64 PV interface, defined once.
//!
//! Every number and every struct a guest, the hypervisor or a boot loader can see
//! lives here and nowhere else: guest-side and hypervisor-side code both import it.
//! Most are Xen's; the few that xen-core itself promises guests, where Xen leaves
//! the choice to a toolstack, are in [`domain_builder`].
//! Layouts are `#[repr(C)]` zerocopy types whose field offsets are asserted at
//! compile time and compared with Debian's `libxen-dev` headers in `tests/`.
//! No logic and no unsafe code belong in this crate.
//!
//! Names follow the C headers, upper-cased for constants (`EVTCHNOP_bind_virq`
//! becomes [`event_channel::EVTCHNOP_BIND_VIRQ`]) and camel-cased for structs
//! (`struct evtchn_bind_virq` becomes [`event_channel::EvtchnBindVirq`]). Where C
//! leaves implicit padding, the Rust struct has an explicit `_pad…` field (write
//! zero, ignore on read); where C has a union, the Rust struct holds its raw
//! bytes with typed views, or a single integer documented with its members.
#![no_std]
#![forbid(unsafe_code)]

pub mod console;
pub mod cpuid;
pub mod domain_builder;
pub mod elfnote;
pub mod errno;
pub mod event_channel;
pub mod grant_table;
pub mod hvm_start_info;
pub mod hypercall;
pub mod memory;
pub mod mmu;
pub mod multicall;
pub mod page_table_entry;
pub mod physdev;
pub mod ring;
pub mod sched;
pub mod shared_info;
pub mod start_info;
pub mod trap;
pub mod vcpu;
pub mod version;
pub mod xenbus;
pub mod xs_wire;
