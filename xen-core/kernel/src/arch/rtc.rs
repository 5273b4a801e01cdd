//! The CMOS real-time clock, read once at boot for the guests' wall clock.

use x86_64::instructions::port::Port;

/// Reads one CMOS register.
fn cmos(register: u8) -> u8 {
    let mut index = Port::<u8>::new(0x70);
    let mut data = Port::<u8>::new(0x71);
    // SAFETY: the RTC belongs to the hypervisor (guests never get ports
    // 0x70-0x71); reading a register has no side effect. Bit 7 of the
    // index keeps NMIs enabled as they were.
    unsafe {
        index.write(register & 0x7f);
        data.read()
    }
}

/// The RTC's date and time (UTC, as QEMU keeps it): year, month, day,
/// hour, minute, second. Waits out an update in progress, and decodes BCD
/// unless the RTC says it counts in binary.
pub fn read() -> (u32, u32, u32, u32, u32, u32) {
    while cmos(0x0a) & 0x80 != 0 {}
    let binary = cmos(0x0b) & 0x04 != 0;
    let decode = |value: u8| -> u32 {
        if binary {
            u32::from(value)
        } else {
            u32::from(value >> 4) * 10 + u32::from(value & 0x0f)
        }
    };
    let second = decode(cmos(0x00));
    let minute = decode(cmos(0x02));
    let hour = decode(cmos(0x04) & 0x7f);
    let day = decode(cmos(0x07));
    let month = decode(cmos(0x08));
    let year = 2000 + decode(cmos(0x09));
    (year, month, day, hour, minute, second)
}
