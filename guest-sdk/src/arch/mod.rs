//! The bare-metal side: entry, notes, hypercall page, trap stubs, panics.
//! All of the SDK's unsafe code is here, each block with a `// SAFETY:` line.
#![allow(unsafe_code)]

pub mod control_registers;
pub mod cpuid;
pub mod fault;
#[cfg(feature = "heap")]
pub mod heap;
pub mod hypercall;
pub mod msr;
pub mod page_table;
pub mod port;
pub mod segments;
pub mod shared_page;
pub mod stubs;
pub mod time;
pub mod user;

use crate::start_info::StartInfo;
use crate::trap_frame::TrapFrame;
use xen_abi::page_table_entry::PAGE_SIZE;
use xen_abi::{elfnote, hypercall as xen_hypercall};

// entry.S takes the numbers it shares with Rust and the hypervisor as
// `{NAME}` operands.
core::arch::global_asm!(
    include_str!("entry.S"),
    XEN_ELFNOTE_ENTRY = const elfnote::XEN_ELFNOTE_ENTRY,
    XEN_ELFNOTE_HYPERCALL_PAGE = const elfnote::XEN_ELFNOTE_HYPERCALL_PAGE,
    XEN_ELFNOTE_VIRT_BASE = const elfnote::XEN_ELFNOTE_VIRT_BASE,
    XEN_ELFNOTE_PADDR_OFFSET = const elfnote::XEN_ELFNOTE_PADDR_OFFSET,
    XEN_ELFNOTE_XEN_VERSION = const elfnote::XEN_ELFNOTE_XEN_VERSION,
    XEN_ELFNOTE_GUEST_OS = const elfnote::XEN_ELFNOTE_GUEST_OS,
    XEN_ELFNOTE_LOADER = const elfnote::XEN_ELFNOTE_LOADER,
    HYPERCALL_PAGE_SIZE = const xen_hypercall::HYPERCALL_PAGE_SIZE,
    IRET_STUB = const xen_hypercall::IRET as usize * xen_hypercall::HYPERCALL_STUB_SIZE,
    SHARED_AREA_BYTES = const shared_page::PAGES * PAGE_SIZE as usize,
    SYSCALL_VECTOR = const crate::user::SYSCALL_VECTOR,
    options(att_syntax)
);

unsafe extern "Rust" {
    /// The guest kernel's main, named with `guest_sdk::entry!`.
    #[link_name = "guest_sdk_main"]
    fn guest_main(info: &'static StartInfo) -> !;
}

/// Called by `_start` with RSI as the builder left it: the virtual address of
/// start_info.
#[unsafe(no_mangle)]
extern "C" fn guest_sdk_start(start_info: u64) -> ! {
    // SAFETY: the domain builder (Xen's or xen-core's) maps start_info at this
    // address, read-write, for the life of the domain, and nothing else in the
    // guest writes it.
    let info: &'static StartInfo = unsafe { &*(start_info as *const StartInfo) };
    #[cfg(feature = "heap")]
    heap::init();
    // A domU prints on its PV console once a backend connects; without a
    // ring (dom0) or if mapping it fails, console_io serves.
    let _ = crate::pv_console::start(info);
    // SAFETY: `guest_sdk::entry!` defines this function in the guest crate
    // with exactly this signature.
    unsafe { guest_main(info) }
}

/// Called by the trap stubs with the saved registers.
#[unsafe(no_mangle)]
extern "C" fn guest_sdk_trap(frame: &mut TrapFrame) {
    crate::traps::dispatch(frame);
}

/// Called by the upcall stub, with events masked.
#[unsafe(no_mangle)]
extern "C" fn guest_sdk_upcall() {
    crate::upcall::dispatch();
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::println!("guest panic: {}", info);
    crate::sched::crash()
}
