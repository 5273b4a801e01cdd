//! System time: the TSC, calibrated against the PIT at boot, and the APIC
//! timer's rate, calibrated the same way.

use super::lapic;
use core::arch::x86_64::_rdtsc;
use spin::Once;
use x86_64::instructions::port::Port;
use xen_core::time::{ClockReading, TimeScale};

/// The PIT's input clock (Hz).
const PIT_HZ: u64 = 1_193_182;
/// Calibration window: 10 ms of PIT ticks.
const PIT_TICKS: u16 = 11_932;

/// What calibration found.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// TSC value at system time 0.
    boot_tsc: u64,
    /// TSC ticks to nanoseconds.
    pub scale: TimeScale,
    /// TSC frequency (Hz).
    pub tsc_hz: u64,
    /// APIC timer frequency at divide-by-1 (Hz).
    pub apic_hz: u64,
}

static CLOCK: Once<Clock> = Once::new();

fn rdtsc() -> u64 {
    // SAFETY: RDTSC only reads the time-stamp counter.
    unsafe { _rdtsc() }
}

/// Counts TSC and APIC-timer ticks over 10 ms of the PIT's channel 2 (gated
/// through port 0x61, speaker off, mode 0: its output rises at the end).
pub fn calibrate() -> &'static Clock {
    CLOCK.call_once(|| {
        let mut gate = Port::<u8>::new(0x61);
        let mut command = Port::<u8>::new(0x43);
        let mut channel2 = Port::<u8>::new(0x42);
        // SAFETY: the PIT and port 0x61 belong to the hypervisor (guests
        // never get them, see io_ports); channel 2 drives only the speaker,
        // which stays off.
        let (tsc_ticks, apic_ticks) = unsafe {
            let value = gate.read();
            gate.write((value & !0x02) | 0x01);
            command.write(0b1011_0000); // channel 2, lobyte/hibyte, mode 0
            channel2.write(PIT_TICKS as u8);
            channel2.write((PIT_TICKS >> 8) as u8);
            let tsc_start = rdtsc();
            lapic::start_masked(u32::MAX);
            while gate.read() & 0x20 == 0 {}
            let apic_left = lapic::current_count();
            let tsc_end = rdtsc();
            lapic::disarm();
            (tsc_end - tsc_start, u64::from(u32::MAX - apic_left))
        };
        let window_ns = u64::from(PIT_TICKS) * 1_000_000_000 / PIT_HZ;
        let tsc_hz = tsc_ticks * 1_000_000_000 / window_ns;
        let apic_hz = apic_ticks * 1_000_000_000 / window_ns;
        Clock {
            boot_tsc: rdtsc(),
            scale: TimeScale::from_frequency(tsc_hz),
            tsc_hz,
            apic_hz: apic_hz.max(1),
        }
    })
}

fn clock() -> &'static Clock {
    calibrate()
}

/// The TSC and the system time it stands for, now.
pub fn reading() -> ClockReading {
    let clock = clock();
    let tsc = rdtsc();
    ClockReading {
        tsc,
        system_time: clock.scale.ticks_to_ns(tsc.wrapping_sub(clock.boot_tsc)),
    }
}

/// Nanoseconds since boot.
pub fn now_ns() -> u64 {
    reading().system_time
}

/// Arms the APIC timer to interrupt at system time `deadline` (at once if
/// it has passed; intervals beyond the counter's range are cut short, and
/// the scheduler simply looks again).
pub fn arm_timer_at(deadline: u64) {
    let clock = clock();
    let delta = deadline.saturating_sub(now_ns());
    let ticks = (u128::from(delta) * u128::from(clock.apic_hz) / 1_000_000_000).min(u128::from(u32::MAX));
    lapic::arm(ticks as u32);
}
