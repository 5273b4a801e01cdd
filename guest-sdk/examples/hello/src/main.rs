//! The smallest xen-core demo guest: a real Xen x86_64 PV kernel that prints one
//! line through `console_io` and powers its domain off.
//!
//! It is written straight against the ABI so it can exist before `guest-sdk`
//! grows its wrappers; the hypercall stubs are the only unsafe code.
#![no_std]
#![no_main]

mod hypercall;

use xen_abi::sched::{SCHEDOP_SHUTDOWN, SHUTDOWN_CRASH, SHUTDOWN_POWEROFF, SchedShutdown};

/// Entered from `_start` with the virtual address of start_info.
#[unsafe(no_mangle)]
extern "C" fn hello_main(_start_info: u64) -> ! {
    hypercall::console_write(b"hello from the xen-core demo guest\n");
    shutdown(SHUTDOWN_POWEROFF)
}

/// Asks the hypervisor to end this domain; never returns.
fn shutdown(reason: u32) -> ! {
    let argument = SchedShutdown { reason };
    hypercall::sched_op(SCHEDOP_SHUTDOWN, &argument);
    // A shutdown hypercall that returns is a hypervisor bug; spin rather than
    // run off into memory.
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    shutdown(SHUTDOWN_CRASH)
}

core::arch::global_asm!(include_str!("entry.S"), options(att_syntax));
