//! `print!` and `println!`: over the PV console once its backend is
//! connected ([`crate::pv_console`]), over `console_io` otherwise.

use core::fmt::{self, Write};

/// Collects formatted output and writes it with as few hypercalls as lines.
pub struct ConsoleWriter {
    buffer: [u8; 128],
    used: usize,
}

impl ConsoleWriter {
    /// An empty writer.
    pub const fn new() -> Self {
        ConsoleWriter {
            buffer: [0; 128],
            used: 0,
        }
    }

    /// Writes out what is buffered (errors are ignored: there is nowhere
    /// else to report them).
    pub fn flush(&mut self) {
        if self.used > 0 {
            let bytes = &self.buffer[..self.used];
            if crate::pv_console::connected() {
                crate::pv_console::write(bytes);
            } else {
                let _ = crate::hypercall::console_write(bytes);
            }
            self.used = 0;
        }
    }
}

impl Default for ConsoleWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for ConsoleWriter {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for &byte in text.as_bytes() {
            if self.used == self.buffer.len() {
                self.flush();
            }
            self.buffer[self.used] = byte;
            self.used += 1;
            if byte == b'\n' {
                self.flush();
            }
        }
        Ok(())
    }
}

/// Prints formatted text on the hypervisor console; used by the macros.
pub fn print(args: fmt::Arguments<'_>) {
    let mut writer = ConsoleWriter::new();
    let _ = writer.write_fmt(args);
    writer.flush();
}

/// Prints to the hypervisor console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::print(format_args!($($arg)*)) };
}

/// Prints a line to the hypervisor console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}
