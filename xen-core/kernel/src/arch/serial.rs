//! The 16550 UART on COM1: the hypervisor's console.

use core::fmt;
use x86_64::instructions::port::Port;

/// A 16550-compatible serial port, identified by its I/O base.
#[derive(Clone, Copy)]
pub struct Serial {
    base: u16,
}

/// Register offsets from the I/O base.
const DATA: u16 = 0;
const INTERRUPT_ENABLE: u16 = 1;
const FIFO_CONTROL: u16 = 2;
const LINE_CONTROL: u16 = 3;
const MODEM_CONTROL: u16 = 4;
const LINE_STATUS: u16 = 5;
/// Line status: a received byte is waiting.
const DATA_READY: u8 = 1 << 0;
/// Line status: the transmit holding register can take a byte.
const TRANSMIT_EMPTY: u8 = 1 << 5;

impl Serial {
    /// COM1, where QEMU's `-serial` points.
    pub const COM1: Serial = Serial { base: 0x3f8 };

    fn write_register(self, offset: u16, value: u8) {
        // SAFETY: the UART's registers have no effect on memory safety; the port
        // range belongs to this device alone.
        unsafe { Port::new(self.base + offset).write(value) }
    }

    fn read_register(self, offset: u16) -> u8 {
        // SAFETY: as for `write_register`; reading LSR has no side effect.
        unsafe { Port::new(self.base + offset).read() }
    }

    /// Programs 115200 baud, 8N1, FIFOs on, interrupts off.
    pub fn init(self) {
        self.write_register(INTERRUPT_ENABLE, 0);
        self.write_register(LINE_CONTROL, 0x80); // divisor latch access
        self.write_register(DATA, 1); // divisor 1 = 115200 baud
        self.write_register(INTERRUPT_ENABLE, 0);
        self.write_register(LINE_CONTROL, 0x03); // 8 data bits, no parity, 1 stop
        self.write_register(FIFO_CONTROL, 0xc7); // enable and clear FIFOs
        self.write_register(MODEM_CONTROL, 0x03); // DTR and RTS
    }

    /// Whether a received byte waits (without taking it).
    pub fn input_waiting(self) -> bool {
        self.read_register(LINE_STATUS) & DATA_READY != 0
    }

    /// A received byte, if one is waiting; never blocks.
    pub fn try_read_byte(self) -> Option<u8> {
        (self.read_register(LINE_STATUS) & DATA_READY != 0).then(|| self.read_register(DATA))
    }

    /// Sends one byte, waiting until the transmitter can take it.
    pub fn write_byte(self, byte: u8) {
        // Bounded wait: a UART that never drains must not hang a crash report.
        for _ in 0..100_000 {
            if self.read_register(LINE_STATUS) & TRANSMIT_EMPTY != 0 {
                break;
            }
            core::hint::spin_loop();
        }
        self.write_register(DATA, byte);
    }
}

impl fmt::Write for Serial {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for byte in text.bytes() {
            if byte == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(byte);
        }
        Ok(())
    }
}
