//! Calls through the hypercall page (slot n at `hypercall_page + 32 * n`).

use xen_abi::hypercall::{CONSOLE_IO, CONSOLEIO_WRITE, HYPERCALL_STUB_SIZE, SCHED_OP};
use xen_abi::sched::SchedShutdown;

unsafe extern "C" {
    static hypercall_page: [u8; 4096];
}

/// Makes hypercall `number` with three arguments; returns RAX.
fn hypercall3(number: u32, a1: u64, a2: u64, a3: u64) -> i64 {
    let stub = &raw const hypercall_page as u64 + u64::from(number) * HYPERCALL_STUB_SIZE as u64;
    let result: i64;
    // SAFETY: the hypervisor filled the page with Xen's stubs before our first
    // instruction; a stub preserves everything but RAX and the argument
    // registers, which are declared clobbered, and it returns with `ret`.
    unsafe {
        core::arch::asm!(
            "call {stub}",
            stub = in(reg) stub,
            inlateout("rdi") a1 => _,
            inlateout("rsi") a2 => _,
            inlateout("rdx") a3 => _,
            lateout("rax") result,
            out("r10") _, out("r8") _, out("rcx") _, out("r11") _,
        );
    }
    result
}

/// Writes bytes to the hypervisor console (`console_io(CONSOLEIO_write)`).
pub fn console_write(text: &[u8]) -> i64 {
    hypercall3(
        CONSOLE_IO,
        u64::from(CONSOLEIO_WRITE),
        text.len() as u64,
        text.as_ptr() as u64,
    )
}

/// `sched_op(SCHEDOP_shutdown, &argument)`.
pub fn sched_op(command: u32, argument: &SchedShutdown) -> i64 {
    hypercall3(SCHED_OP, u64::from(command), argument as *const SchedShutdown as u64, 0)
}
