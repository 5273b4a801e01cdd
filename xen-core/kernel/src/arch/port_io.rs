//! Port I/O on behalf of a guest granted an I/O privilege level.

use x86_64::instructions::port::Port;
use xen_core::domain::io_ports::guest_may_access;

/// Whether a guest may touch `size` bytes at `port` (checked again here, so
/// no caller can bypass the policy; the debug-exit port stays open: dom0
/// leaving QEMU through it is the same sequence on real Xen).
fn guest_may_use(port: u16, size: u8) -> bool {
    guest_may_access(port, size)
}

/// Writes `value` (`size` bytes) to `port`; ports the hypervisor owns are
/// silently ignored, as unbacked ports are on real hardware.
pub fn write(port: u16, size: u8, value: u32) {
    if !guest_may_use(port, size) {
        return;
    }
    // SAFETY: port I/O cannot touch memory; the hypervisor's own devices are
    // excluded above, and the guest was granted I/O privilege by policy.
    unsafe {
        match size {
            1 => Port::<u8>::new(port).write(value as u8),
            2 => Port::<u16>::new(port).write(value as u16),
            _ => Port::<u32>::new(port).write(value),
        }
    }
}

/// Reads `size` bytes from `port`; ports the hypervisor owns read as all-ones.
pub fn read(port: u16, size: u8) -> u32 {
    if !guest_may_use(port, size) {
        return u32::MAX;
    }
    // SAFETY: as for `write`.
    unsafe {
        match size {
            1 => u32::from(Port::<u8>::new(port).read()),
            2 => u32::from(Port::<u16>::new(port).read()),
            _ => Port::<u32>::new(port).read(),
        }
    }
}
