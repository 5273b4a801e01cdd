//! What CPUID tells the hypervisor about the processor.

/// The processor's physical address width (CPUID 0x80000008 EAX bits 0–7),
/// or 36, the architectural minimum, if the leaf is missing.
pub fn physical_address_bits() -> u8 {
    let highest = core::arch::x86_64::__cpuid(0x8000_0000).eax;
    if highest >= 0x8000_0008 {
        core::arch::x86_64::__cpuid(0x8000_0008).eax as u8
    } else {
        36
    }
}

/// The processor's CPUID leaf `leaf`, sub-leaf `subleaf`: EAX, EBX, ECX, EDX.
pub fn cpuid(leaf: u32, subleaf: u32) -> [u32; 4] {
    let result = core::arch::x86_64::__cpuid_count(leaf, subleaf);
    [result.eax, result.ebx, result.ecx, result.edx]
}
