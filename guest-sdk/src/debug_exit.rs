//! Leaving QEMU from a guest: the same sequence on real Xen and on xen-core.
//!
//! A guest with I/O privilege (dom0, after `physdev_op(set_iopl)`) writes a
//! code to QEMU's isa-debug-exit port; QEMU exits with `(code << 1) | 1`.
//! Neither hypervisor needs to know: both emulate the `out` for a guest whose
//! virtual IOPL allows it. This is how one test guest ends the run the same
//! way on both.

use crate::XenError;

/// The isa-debug-exit device's port (`-device isa-debug-exit,iobase=0xf4`).
pub const DEBUG_EXIT_PORT: u16 = 0xf4;
/// The code for success: QEMU exits with 33.
pub const SUCCESS: u8 = 0x10;

/// Asks for I/O privilege and writes `code` to the debug-exit port. Returns
/// only if QEMU did not exit (no such device, or privilege refused).
pub fn exit_qemu(code: u8) -> Result<(), XenError> {
    crate::hypercall::set_iopl(1)?;
    #[cfg(target_os = "none")]
    crate::arch::port::write_u8(DEBUG_EXIT_PORT, code);
    #[cfg(not(target_os = "none"))]
    let _ = code;
    Ok(())
}
