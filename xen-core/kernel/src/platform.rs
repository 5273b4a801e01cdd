//! The machine as portable hypercall code sees it (`xen_core::arch::Platform`).

use crate::arch::guest_memory::CurrentGuestMemory;
use crate::arch::physical_memory::PhysicalWindow;
use crate::arch::port_io;
use crate::arch::serial::Serial;
use crate::m2p::M2pWriter;
use xen_core::arch::Platform;

/// The real machine, while a guest's page tables are loaded.
pub struct KernelPlatform {
    guest: CurrentGuestMemory,
    memory: PhysicalWindow,
    m2p: M2pWriter,
}

impl KernelPlatform {
    /// The platform for the running guest.
    pub fn new() -> Self {
        KernelPlatform {
            guest: CurrentGuestMemory,
            memory: PhysicalWindow::DIRECT_MAP,
            m2p: M2pWriter,
        }
    }
}

impl Platform for KernelPlatform {
    type Guest = CurrentGuestMemory;
    type Memory = PhysicalWindow;
    type M2p = M2pWriter;

    fn guest(&mut self) -> &mut CurrentGuestMemory {
        &mut self.guest
    }

    fn memory(&mut self) -> &mut PhysicalWindow {
        &mut self.memory
    }

    fn memory_parts(&mut self) -> (&mut PhysicalWindow, &mut CurrentGuestMemory, &mut M2pWriter) {
        (&mut self.memory, &mut self.guest, &mut self.m2p)
    }

    fn now_ns(&mut self) -> u64 {
        crate::arch::clock::now_ns()
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
        // Input that is still there after this read is signalled again.
        crate::guest_trap::CONSOLE_SIGNALLED.store(false, core::sync::atomic::Ordering::Relaxed);
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
