//! `rdmsr`, emulated by the hypervisor.

/// `rdmsr` of `msr`.
pub fn read(msr: u32) -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: reading an MSR changes nothing; at CPL 3 it raises #GP,
    // which the hypervisor emulates or hands to the guest's handler.
    unsafe { core::arch::asm!("rdmsr", in("ecx") msr, out("eax") low, out("edx") high, options(nomem, nostack)) };
    (u64::from(high) << 32) | u64::from(low)
}
