//! The machine as portable hypercall code sees it (`xen_core::arch::Platform`).

use crate::arch::guest_memory::CurrentGuestMemory;
use crate::arch::physical_memory::PhysicalWindow;
use crate::arch::port_io;
use crate::arch::serial::Serial;
use xen_core::arch::Platform;

/// The real machine, while a guest's page tables are loaded.
pub struct KernelPlatform {
    guest: CurrentGuestMemory,
    memory: PhysicalWindow,
}

impl KernelPlatform {
    /// The platform for the running guest.
    pub fn new() -> Self {
        KernelPlatform {
            guest: CurrentGuestMemory,
            memory: PhysicalWindow::DIRECT_MAP,
        }
    }
}

impl Platform for KernelPlatform {
    type Guest = CurrentGuestMemory;
    type Memory = PhysicalWindow;

    fn guest(&mut self) -> &mut CurrentGuestMemory {
        &mut self.guest
    }

    fn memory(&mut self) -> &mut PhysicalWindow {
        &mut self.memory
    }

    fn console_write(&mut self, bytes: &[u8]) {
        let serial = crate::console::lock();
        for &byte in bytes {
            if byte == b'\n' {
                serial.write_byte(b'\r');
            }
            serial.write_byte(byte);
        }
    }

    fn console_read(&mut self, out: &mut [u8]) -> usize {
        let serial = Serial::COM1;
        let mut count = 0;
        while count < out.len() {
            match serial.try_read_byte() {
                Some(byte) => {
                    out[count] = byte;
                    count += 1;
                }
                None => break,
            }
        }
        count
    }

    fn port_write(&mut self, port: u16, size: u8, value: u32) {
        port_io::write(port, size, value);
    }

    fn port_read(&mut self, port: u16, size: u8) -> u32 {
        port_io::read(port, size)
    }
}
