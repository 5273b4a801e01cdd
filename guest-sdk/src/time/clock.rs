//! Xen system time: the time-stamp counter, extrapolated from the snapshot
//! in `vcpu_time_info` through its seqlock (see [`super`]).

use crate::shared_info::SHARED_INFO;
use xen_abi::shared_info::VcpuTimeInfo;

/// Xen system time now, in nanoseconds since the hypervisor started. Zero
/// until shared_info is mapped.
pub fn now() -> u64 {
    system_time(|| SHARED_INFO.vcpu_time())
}

/// Reads the time-stamp counter. Under QEMU with `-icount shift=0` it
/// advances exactly one tick per guest instruction.
pub fn rdtsc() -> u64 {
    #[cfg(target_os = "none")]
    {
        crate::arch::time::rdtsc()
    }
    #[cfg(not(target_os = "none"))]
    {
        0
    }
}

/// Scales a TSC delta to nanoseconds as Xen does: shift left by `shift` if
/// positive, right by `-shift` if negative, then multiply by `mul` as a
/// 32.32 fixed-point fraction.
pub fn scale_delta(delta: u64, mul: u32, shift: i8) -> u64 {
    let shifted = if shift >= 0 {
        delta.checked_shl(u32::from(shift.unsigned_abs())).unwrap_or(0)
    } else {
        delta.checked_shr(u32::from(shift.unsigned_abs())).unwrap_or(0)
    };
    ((u128::from(shifted) * u128::from(mul)) >> 32) as u64
}

/// System time at TSC value `tsc`, from one consistent snapshot.
pub fn system_time_at(info: &VcpuTimeInfo, tsc: u64) -> u64 {
    let delta = tsc.wrapping_sub(info.tsc_timestamp);
    info.system_time
        .wrapping_add(scale_delta(delta, info.tsc_to_system_mul, info.tsc_shift))
}

/// Reads system time through the seqlock: `snapshot` returns the current
/// `vcpu_time_info` (a copy of shared memory); retried while the hypervisor
/// is mid-update (odd version) or changed it during the read.
pub fn system_time(mut snapshot: impl FnMut() -> VcpuTimeInfo) -> u64 {
    loop {
        let before = snapshot();
        if before.version % 2 == 1 {
            continue;
        }
        let tsc = rdtsc();
        let after = snapshot();
        if after.version == before.version {
            return system_time_at(&before, tsc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(system_time: u64, tsc_timestamp: u64, mul: u32, shift: i8, version: u32) -> VcpuTimeInfo {
        VcpuTimeInfo {
            version,
            pad0: 0,
            tsc_timestamp,
            system_time,
            tsc_to_system_mul: mul,
            tsc_shift: shift,
            flags: 0,
            pad1: [0; 2],
        }
    }

    #[test]
    fn a_one_ghz_tsc_counts_nanoseconds() {
        // mul = 2^31 with shift 1: one tick = one nanosecond.
        let snapshot = info(1_000, 5_000, 1 << 31, 1, 2);
        assert_eq!(system_time_at(&snapshot, 6_000), 2_000);
    }

    #[test]
    fn negative_shifts_divide_and_fractions_scale() {
        // 2.5 GHz: 0.4 ns per tick = 0.8 * 2^-1 -> mul = 0.8 * 2^32, shift -1.
        let mul = (0.8 * 4_294_967_296.0) as u32;
        let snapshot = info(0, 0, mul, -1, 0);
        let ns = system_time_at(&snapshot, 2_500_000_000);
        assert!((999_999_990..=1_000_000_000).contains(&ns), "{ns}");
    }

    #[test]
    fn huge_shifts_and_deltas_do_not_overflow() {
        assert_eq!(
            scale_delta(u64::MAX, u32::MAX, -63),
            0,
            "(2^64-1) >> 63 = 1, times just under 1, floors to 0"
        );
        let expected = ((1u128 << 40) * u128::from(u32::MAX)) >> 32;
        assert_eq!(u128::from(scale_delta(1, u32::MAX, 40)), expected);
        assert_eq!(
            scale_delta(u64::MAX, u32::MAX, i8::MAX),
            0,
            "a shift past 63 gives 0, not a panic"
        );
    }

    #[test]
    fn a_torn_snapshot_is_read_again() {
        // Odd version first (mid-update), then a changed one, then stable.
        let snapshots = [
            info(0, 0, 1 << 31, 1, 3),
            info(7, 0, 1 << 31, 1, 4),
            info(9, 0, 1 << 31, 1, 6),
            info(9, 0, 1 << 31, 1, 6),
        ];
        let mut next = 0;
        let time = system_time(|| {
            let snapshot = snapshots[next.min(3)];
            next += 1;
            snapshot
        });
        // On the host rdtsc() is 0 and tsc_timestamp 0: the snapshot's time.
        assert_eq!(time, 9);
        // Reads: odd version (skip); 4 then 6 (changed: retry); 6 then 6.
        assert_eq!(next, 5, "odd version skipped, changed version retried");
    }
}
