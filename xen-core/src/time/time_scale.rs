//! Converting TSC ticks to nanoseconds the way `vcpu_time_info` describes it:
//! shift the tick count, multiply by a 32.32 fraction.

/// Nanoseconds per second.
pub const NS_PER_SEC: u64 = 1_000_000_000;

/// `tsc_to_system_mul` and `tsc_shift` for one TSC frequency: nanoseconds
/// = ((ticks << shift, or >> -shift) × mul) >> 32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeScale {
    /// `tsc_to_system_mul`: a fraction below 1 in 32.32 fixed point.
    pub mul: u32,
    /// `tsc_shift`: applied to ticks before the multiply.
    pub shift: i8,
}

impl TimeScale {
    /// The scale for a TSC running at `hz` ticks per second (at least 1).
    ///
    /// The shift brings the frequency into (1 GHz, 2 GHz], so that one
    /// shifted tick is less than a nanosecond and `mul` = 10⁹ / shifted
    /// frequency fits in 32 bits with full precision.
    pub fn from_frequency(hz: u64) -> Self {
        let mut scaled = hz.max(1);
        let mut shift: i8 = 0;
        while scaled > 2 * NS_PER_SEC {
            scaled >>= 1;
            shift -= 1;
        }
        while scaled <= NS_PER_SEC {
            scaled <<= 1;
            shift += 1;
        }
        let mul = ((NS_PER_SEC as u128) << 32) / scaled as u128;
        TimeScale { mul: mul as u32, shift }
    }

    /// Nanoseconds in `ticks` TSC ticks, exactly as a guest computes them.
    pub fn ticks_to_ns(&self, ticks: u64) -> u64 {
        let shifted = if self.shift >= 0 {
            ticks << self.shift
        } else {
            ticks >> -self.shift
        };
        ((u128::from(shifted) * u128::from(self.mul)) >> 32) as u64
    }

    /// TSC ticks in `ns` nanoseconds (rounded up, for arming timers so
    /// that they never fire early).
    pub fn ns_to_ticks(&self, ns: u64) -> u64 {
        let shifted = ((u128::from(ns) << 32).div_ceil(u128::from(self.mul.max(1)))) as u64;
        if self.shift >= 0 {
            shifted.div_ceil(1 << self.shift)
        } else {
            shifted << -self.shift
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_second_of_ticks_is_one_second_within_a_nanosecond_per_second() {
        for hz in [
            1_000_000u64,
            14_318_180,
            1_000_000_000,
            1_999_999_999,
            2_500_000_000,
            3_700_000_000,
        ] {
            let scale = TimeScale::from_frequency(hz);
            let ns = scale.ticks_to_ns(hz);
            assert!(ns.abs_diff(NS_PER_SEC) <= 1, "{hz} Hz: {ns} ns ({scale:?})");
            let ten_minutes = scale.ticks_to_ns(hz * 600);
            assert!(ten_minutes.abs_diff(600 * NS_PER_SEC) <= 600, "{hz} Hz: {ten_minutes}");
        }
    }

    #[test]
    fn the_shift_puts_the_frequency_between_1_and_2_ghz() {
        assert_eq!(TimeScale::from_frequency(3_000_000_000).shift, -1);
        assert_eq!(TimeScale::from_frequency(1_500_000_000).shift, 0);
        assert_eq!(TimeScale::from_frequency(1_000_000_000).shift, 1);
        assert_eq!(TimeScale::from_frequency(100_000_000).shift, 4);
    }

    #[test]
    fn converting_back_never_undershoots() {
        for hz in [14_318_180u64, 2_500_000_000] {
            let scale = TimeScale::from_frequency(hz);
            for ns in [1u64, 999, 1_000_000, 10_000_000, 123_456_789_012] {
                let ticks = scale.ns_to_ticks(ns);
                assert!(scale.ticks_to_ns(ticks) >= ns, "{hz} Hz, {ns} ns -> {ticks}");
                assert!(
                    scale.ticks_to_ns(ticks.saturating_sub(2)) < ns + 1,
                    "{hz} Hz, {ns} ns -> {ticks}"
                );
            }
        }
    }
}
