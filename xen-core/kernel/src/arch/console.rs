//! The hypervisor console: log lines with levels, on COM1.
//!
//! Every line starts with `(XEN)` and a level label, so a reader (or a test)
//! can tell hypervisor output from a guest's.
#![deny(unsafe_code)] // safe code over the arch wrappers; it sits here as the x86 side of the seam

use crate::arch::serial::Serial;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU8, Ordering};
use spin::Mutex;
use xen_core::log_level::LogLevel;

static CONSOLE: Mutex<Serial> = Mutex::new(Serial::COM1);
static MAX_LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);

/// Programs the UART. Call once, first thing.
pub fn init() {
    CONSOLE.lock().init();
}

/// Sets the most verbose level that is printed.
pub fn set_max_level(level: LogLevel) {
    MAX_LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Prints one log line if `level` is enabled.
pub fn log(level: LogLevel, args: fmt::Arguments<'_>) {
    if level as u8 <= MAX_LEVEL.load(Ordering::Relaxed) {
        let mut serial = CONSOLE.lock();
        let _ = writeln!(serial, "(XEN) {} {}", level.as_str(), args);
    }
}

/// Prints a line whatever the log level: verdict lines that runners wait for.
pub fn always(args: fmt::Arguments<'_>) {
    let mut serial = CONSOLE.lock();
    let _ = writeln!(serial, "(XEN) {args}");
}

/// The console UART, locked: for guest console output, written byte by byte.
pub fn lock() -> spin::MutexGuard<'static, Serial> {
    CONSOLE.lock()
}

/// A writer for crash reports that takes no lock: the crash may have happened
/// while the console lock was held, and the UART needs no shared state.
pub fn emergency_writer() -> Serial {
    Serial::COM1
}

/// Logs at error level.
macro_rules! error {
    ($($arg:tt)*) => { $crate::arch::console::log(xen_core::log_level::LogLevel::Error, format_args!($($arg)*)) };
}
/// Logs at warning level.
macro_rules! warn {
    ($($arg:tt)*) => { $crate::arch::console::log(xen_core::log_level::LogLevel::Warn, format_args!($($arg)*)) };
}
/// Logs at info level.
macro_rules! info {
    ($($arg:tt)*) => { $crate::arch::console::log(xen_core::log_level::LogLevel::Info, format_args!($($arg)*)) };
}
/// Logs at debug level.
macro_rules! debug {
    ($($arg:tt)*) => { $crate::arch::console::log(xen_core::log_level::LogLevel::Debug, format_args!($($arg)*)) };
}
