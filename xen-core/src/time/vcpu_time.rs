//! Publishing time to guests: each vCPU's `vcpu_time_info` and the domain's
//! wall clock in shared_info, each under its version counter.
//!
//! The version protocol is a sequence lock: the writer makes the version odd,
//! writes the fields, then makes it even; a guest that sees an odd version,
//! or a different one after reading, reads again.

use super::time_scale::TimeScale;
use crate::arch::PhysicalMemory;
use crate::mm::Mfn;
use core::mem::offset_of;
use xen_abi::shared_info::{SharedInfo, VcpuInfo, VcpuTimeInfo};

const TIME: u64 = offset_of!(VcpuInfo, time) as u64;
const VERSION: u64 = offset_of!(VcpuTimeInfo, version) as u64;
const TSC_TIMESTAMP: u64 = offset_of!(VcpuTimeInfo, tsc_timestamp) as u64;
const SYSTEM_TIME: u64 = offset_of!(VcpuTimeInfo, system_time) as u64;
const SCALE: u64 = offset_of!(VcpuTimeInfo, tsc_to_system_mul) as u64;
const WALLCLOCK: u64 = offset_of!(SharedInfo, wc_version) as u64;

/// One reading of the clock: a TSC value and the system time it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockReading {
    /// The TSC.
    pub tsc: u64,
    /// Nanoseconds since the hypervisor booted, at that TSC.
    pub system_time: u64,
}

/// Writes the `vcpu_time_info` of the `vcpu_info` at physical address
/// `vcpu_info`: from `reading` on, the guest computes system time by
/// scaling TSC ticks with `scale`.
pub fn publish_vcpu_time(memory: &mut impl PhysicalMemory, vcpu_info: u64, reading: ClockReading, scale: TimeScale) {
    let base = vcpu_info + TIME;
    // version and its padding share the first word: keep the padding zero.
    let version = memory.read_u64(base + VERSION) as u32;
    memory.write_u64(base + VERSION, u64::from(version.wrapping_add(1) | 1));
    memory.write_u64(base + TSC_TIMESTAMP, reading.tsc);
    memory.write_u64(base + SYSTEM_TIME, reading.system_time);
    // mul (u32), shift (i8), flags (u8, none: the TSC is not promised stable).
    memory.write_u64(
        base + SCALE,
        u64::from(scale.mul) | (u64::from(scale.shift as u8) << 32),
    );
    memory.write_u64(base + VERSION, u64::from((version | 1).wrapping_add(1)));
}

/// Wall-clock time at system time 0, as `wc_sec`/`wc_nsec` hold it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wallclock {
    /// Seconds since the Unix epoch.
    pub sec: u64,
    /// Nanoseconds within that second.
    pub nsec: u32,
}

/// Writes the wall clock into `shared_info` under `wc_version`.
pub fn publish_wallclock(memory: &mut impl PhysicalMemory, shared_info: Mfn, wallclock: Wallclock) {
    let base = shared_info.address() + WALLCLOCK;
    // Words: wc_version | wc_sec, then wc_nsec | wc_sec_hi.
    let version = memory.read_u64(base) as u32;
    let odd = version.wrapping_add(1) | 1;
    memory.write_u64(base, u64::from(odd) | ((wallclock.sec & 0xffff_ffff) << 32));
    memory.write_u64(base + 8, u64::from(wallclock.nsec) | ((wallclock.sec >> 32) << 32));
    memory.write_u64(
        base,
        u64::from(odd.wrapping_add(1)) | ((wallclock.sec & 0xffff_ffff) << 32),
    );
}

/// Seconds since the Unix epoch of a UTC date and time (proleptic Gregorian
/// calendar), for the wall clock read from the RTC at boot.
pub fn unix_seconds(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> u64 {
    // Days from 1970-01-01, counting years from March so that the leap day
    // is the last day of the counted year.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = u64::from(era) * 146_097 + u64::from(day_of_era) - 719_468;
    days * 86_400 + u64::from(hour) * 3600 + u64::from(minute) * 60 + u64::from(second)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::fake::FakeMemory;
    use zerocopy::FromBytes;

    const SHARED: Mfn = Mfn(0x10);

    fn shared_info(memory: &FakeMemory) -> SharedInfo {
        let words = memory.frame_words(SHARED);
        let bytes: std::vec::Vec<u8> = words.iter().flat_map(|word| word.to_le_bytes()).collect();
        SharedInfo::read_from_prefix(&bytes).unwrap().0
    }

    #[test]
    fn vcpu_time_is_written_under_an_even_version_that_moves() {
        let mut memory = FakeMemory::default();
        let scale = TimeScale::from_frequency(2_000_000_000);
        let reading = ClockReading {
            tsc: 123_456,
            system_time: 789,
        };
        publish_vcpu_time(
            &mut memory,
            SHARED.address() + size_of::<VcpuInfo>() as u64,
            reading,
            scale,
        );
        let time = shared_info(&memory).vcpu_info[1].time;
        assert_eq!(time.version, 2);
        assert_eq!((time.tsc_timestamp, time.system_time), (123_456, 789));
        assert_eq!((time.tsc_to_system_mul, time.tsc_shift), (scale.mul, scale.shift));
        publish_vcpu_time(
            &mut memory,
            SHARED.address() + size_of::<VcpuInfo>() as u64,
            reading,
            scale,
        );
        assert_eq!(shared_info(&memory).vcpu_info[1].time.version, 4);
        assert_eq!(
            shared_info(&memory).vcpu_info[0].time.version,
            0,
            "other vCPUs untouched"
        );
    }

    #[test]
    fn the_wallclock_fields_split_seconds_across_sec_and_sec_hi() {
        let mut memory = FakeMemory::default();
        let wallclock = Wallclock {
            sec: 0x1_2345_6789,
            nsec: 500,
        };
        publish_wallclock(&mut memory, SHARED, wallclock);
        let info = shared_info(&memory);
        assert_eq!(info.wc_version, 2);
        assert_eq!((info.wc_sec, info.wc_sec_hi, info.wc_nsec), (0x2345_6789, 1, 500));
    }

    #[test]
    fn unix_seconds_matches_known_dates() {
        assert_eq!(unix_seconds(1970, 1, 1, 0, 0, 0), 0);
        assert_eq!(unix_seconds(2000, 3, 1, 0, 0, 0), 951_868_800);
        assert_eq!(unix_seconds(2026, 11, 21, 12, 30, 15), 1_795_264_215);
        assert_eq!(unix_seconds(2024, 2, 29, 23, 59, 59), 1_709_251_199);
    }
}
