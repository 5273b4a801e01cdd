//! The call into the hypercall page.

use xen_abi::hypercall::{HYPERCALL_PAGE_SIZE, HYPERCALL_STUB_SIZE, HYPERCALL_VECTOR};

unsafe extern "C" {
    /// The page the hypervisor fills with stubs (entry.S reserves it).
    static hypercall_page: [u8; HYPERCALL_PAGE_SIZE];
}

/// Calls slot `number` of the hypercall page with `args`; returns RAX.
pub fn call(number: u32, args: [u64; 5]) -> i64 {
    // The page has 128 slots; there is no stub for anything beyond.
    if number as usize >= HYPERCALL_PAGE_SIZE / HYPERCALL_STUB_SIZE {
        return xen_abi::errno::Errno::ENOSYS.as_return();
    }
    let stub = &raw const hypercall_page as u64 + u64::from(number) * HYPERCALL_STUB_SIZE as u64;
    let result: i64;
    // SAFETY: the hypervisor filled the page before our first instruction;
    // each stub saves RCX and R11, makes the call and returns with `ret`. The
    // argument registers may be clobbered (Xen debug builds poison them), so
    // they are declared so; memory passed by address is what the hypercall is
    // for, hence no `nomem`.
    unsafe {
        core::arch::asm!(
            "call {stub}",
            stub = in(reg) stub,
            inlateout("rdi") args[0] => _,
            inlateout("rsi") args[1] => _,
            inlateout("rdx") args[2] => _,
            inlateout("r10") args[3] => _,
            inlateout("r8") args[4] => _,
            lateout("rax") result,
            out("rcx") _,
            out("r11") _,
        );
    }
    result
}

/// Makes hypercall `number` through the `int 0x82` gate instead of the
/// hypercall page (same registers). xen-core accepts it from 64-bit guests.
pub fn call_int82(number: u32, args: [u64; 5]) -> i64 {
    let result: i64;
    // SAFETY: the gate enters the hypervisor like `syscall` does; only RAX and
    // the argument registers may change, as declared.
    unsafe {
        core::arch::asm!(
            "int {vector}",
            vector = const HYPERCALL_VECTOR,
            inlateout("rax") u64::from(number) => result,
            inlateout("rdi") args[0] => _,
            inlateout("rsi") args[1] => _,
            inlateout("rdx") args[2] => _,
            inlateout("r10") args[3] => _,
            inlateout("r8") args[4] => _,
        );
    }
    result
}
