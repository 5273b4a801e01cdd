//! The legacy 8259 PICs: moved out of the way and silenced.
//!
//! After firmware, the master PIC delivers IRQ 0-7 at vectors 8-15, on top of
//! the CPU's exceptions: the first timer tick while a guest runs with
//! interrupts on would look like a double fault. We remap both PICs to
//! vectors 32-47 and mask every line; interrupts the hypervisor wants come
//! through the local APIC. A masked PIC can still raise spurious IRQ 7 or 15,
//! which is why those vectors have (ignoring) handlers.

use x86_64::instructions::port::Port;

/// First vector of the remapped master PIC.
pub const PIC_VECTOR_BASE: u8 = 32;
/// Vectors the two PICs can raise after remapping.
pub const PIC_VECTORS: core::ops::Range<u64> = 32..48;

/// Remaps the PICs to 32-47 and masks every line.
pub fn disable() {
    let write = |port: u16, value: u8| {
        // SAFETY: programming the PICs touches no memory; this is the
        // documented ICW1-ICW4 sequence followed by a full mask.
        unsafe { Port::<u8>::new(port).write(value) }
    };
    for (command, data, base, wiring) in [(0x20, 0x21, PIC_VECTOR_BASE, 4u8), (0xa0, 0xa1, PIC_VECTOR_BASE + 8, 2)] {
        write(command, 0x11); // ICW1: initialise, ICW4 follows
        write(data, base); // ICW2: vector base
        write(data, wiring); // ICW3: master has the slave on IRQ 2 / slave's identity
        write(data, 0x01); // ICW4: 8086 mode
        write(data, 0xff); // mask all
    }
}
