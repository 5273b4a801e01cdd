//! Port output for a guest granted I/O privilege.

/// `out %al, %dx`. Under Xen PV the guest kernel runs in ring 3, so this
/// raises #GP and the hypervisor emulates it if the virtual IOPL allows.
pub fn write_u8(port: u16, value: u8) {
    // SAFETY: port output touches no memory of ours; the hypervisor decides
    // whether the guest may reach the port.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") value, options(nostack, preserves_flags)) }
}
