//! Leaving the hypervisor for the first guest: from then on it runs only
//! when a guest traps.

use spin::Once;
use xen_core::trap_frame::TrapFrame;

unsafe extern "C" {
    /// Copies a frame to the top of the hypervisor stack and `iretq`s to it.
    #[link_name = "enter_guest"]
    fn enter_guest_from(frame: *const TrapFrame) -> !;
}

/// The first frame a guest runs from. Kept in a static: `enter_guest` copies
/// it onto the top of the stack this code runs on, where a local would be.
static FIRST_FRAME: Once<TrapFrame> = Once::new();

/// Leaves the hypervisor for the guest described by `frame`, for good: from
/// now on the hypervisor runs only when the guest traps.
pub fn enter_guest(frame: TrapFrame) -> ! {
    let frame = FIRST_FRAME.call_once(|| frame);
    // The builder makes safe frames; a bug there must not become a ring-0 fault.
    assert!(frame.is_safe_guest_return(), "initial guest frame is not a safe return");
    // SAFETY: the frame is a static, outside the stack region enter_guest
    // overwrites, holds a guest selector and a canonical RIP (checked above),
    // and belongs to the guest whose page tables are loaded.
    unsafe { enter_guest_from(frame) }
}
