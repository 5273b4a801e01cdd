//! Ending a QEMU run through the isa-debug-exit device.

use x86_64::instructions::port::Port;
use xen_core::debug_exit::{DEBUG_EXIT_PORT, DebugExit};

/// Writes the verdict to the debug-exit device, then halts forever in case the
/// device is absent (real hardware, or QEMU without `-device isa-debug-exit`).
pub fn exit(verdict: DebugExit) -> ! {
    // SAFETY: writing the debug-exit port only ends the emulator; it touches no memory.
    unsafe { Port::<u32>::new(DEBUG_EXIT_PORT).write(u32::from(verdict.code())) };
    halt_forever()
}

/// Stops the CPU for good: interrupts off, then `hlt` in a loop.
pub fn halt_forever() -> ! {
    x86_64::instructions::interrupts::disable();
    loop {
        x86_64::instructions::hlt();
    }
}
