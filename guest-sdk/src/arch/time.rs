//! The time-stamp counter.

/// `rdtsc`, unprivileged for PV guests.
pub fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` only reads the counter into EDX:EAX.
    unsafe { core::arch::x86_64::_rdtsc() }
}
