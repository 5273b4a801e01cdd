//! Entering and leaving user programs (the stubs are in entry.S).

use core::sync::atomic::{AtomicU64, Ordering};

unsafe extern "C" {
    /// Enters the program; returns the code `guest_sdk_leave_user` gives.
    fn guest_sdk_enter_user(entry: u64, stack: u64, saved_rsp: *mut u64, cs: u64, ss: u64) -> u64;
    /// Resumes the kernel where `guest_sdk_enter_user` left it.
    fn guest_sdk_leave_user(saved_rsp: u64, code: u64) -> !;
}

/// The kernel's stack pointer while its program runs.
static KERNEL_RSP: AtomicU64 = AtomicU64::new(0);

/// Runs the program at `entry` on `stack` with selectors `cs` and `ss`;
/// returns its exit code.
pub fn run(entry: u64, stack: u64, cs: u16, ss: u16) -> u64 {
    // SAFETY: the stub saves the callee-saved registers and RSP, and only
    // `exit_to_kernel` comes back to them, on this same stack, which stays
    // untouched meanwhile: traps from user mode use the stack given to
    // `stack_switch`.
    unsafe { guest_sdk_enter_user(entry, stack, KERNEL_RSP.as_ptr(), u64::from(cs), u64::from(ss)) }
}

/// Returns `code` from [`run`], abandoning the trap stack.
pub fn exit_to_kernel(code: u64) -> ! {
    let saved = KERNEL_RSP.load(Ordering::Relaxed);
    if saved == 0 {
        crate::println!("guest: exit_to_kernel with no user program running");
        crate::sched::crash()
    }
    // SAFETY: `saved` is the RSP `run` left, whose frame is still live
    // (we are below it in time: `run` has not returned).
    unsafe { guest_sdk_leave_user(saved, code) }
}

/// Copies the program's bytes at `address` (checked below `USER_TOP`).
pub fn copy_from_user(address: u64, out: &mut [u8]) {
    for (offset, byte) in out.iter_mut().enumerate() {
        // SAFETY: the caller checked the range is user space, which the
        // kernel's L4 shares (slot 0); an unmapped page faults to the
        // kernel's own handler, as Linux's copy_from_user would.
        *byte = unsafe { ((address + offset as u64) as *const u8).read_volatile() };
    }
}
