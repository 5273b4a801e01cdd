//! The hypervisor's CPUID leaves for a PV guest, as Xen 4.17 fills them
//! (`arch-x86/cpuid.h`): the signature and the number of leaves, the
//! version, the hypercall page, the TSC and the machine address width.

use super::{CpuidContext, Leaf};
use crate::time::time_scale::TimeScale;
use xen_abi::cpuid::*;

/// Leaf `XEN_CPUID_FIRST_LEAF + index`, sub-leaf `subleaf`.
pub fn leaf(index: u32, subleaf: u32, host: &mut impl FnMut(u32, u32) -> Leaf, context: &CpuidContext) -> Leaf {
    match (index, subleaf) {
        (0, _) => [
            XEN_CPUID_FIRST_LEAF + XEN_CPUID_MAX_NUM_LEAVES,
            XEN_CPUID_SIGNATURE_EBX,
            XEN_CPUID_SIGNATURE_ECX,
            XEN_CPUID_SIGNATURE_EDX,
        ],
        (1, _) => {
            let (major, minor) = context.version;
            [(major << 16) | minor, 0, 0, 0]
        }
        // One hypercall page, its MSR, and A/D-preserving updates.
        (2, _) => [1, XEN_HYPERCALL_PAGE_MSR, XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD, 0],
        (3, 0) => {
            // Bit 1: the host TSC is reliable (invariant). No TSC emulation,
            // the default TSC mode, incarnation 0.
            let invariant = host(0x8000_0007, 0)[3] & (1 << 8) != 0;
            [u32::from(invariant) << 1, 0, tsc_khz(context), 0]
        }
        (3, 1) => {
            let scale = context.tsc_scale;
            [0, 0, scale.mul, scale.shift as i32 as u32]
        }
        (3, 2) => [tsc_khz(context), 0, 0, 0],
        // Leaf 4 is HVM's. Leaf 5: the machine address width.
        (5, 0) => [0, machine_address_bits(context.max_mfn), 0, 0],
        _ => [0; 4],
    }
}

/// The TSC's frequency in kHz, from its scale: a tick is
/// `mul * 2^shift / 2^32` nanoseconds.
fn tsc_khz(context: &CpuidContext) -> u32 {
    let TimeScale { mul, shift } = context.tsc_scale;
    if mul == 0 {
        return 0;
    }
    let per_ms = (1_000_000u128 << 32) / u128::from(mul);
    let khz = if shift >= 0 {
        per_ms >> shift.unsigned_abs()
    } else {
        per_ms << shift.unsigned_abs()
    };
    u32::try_from(khz).unwrap_or(u32::MAX)
}

/// Bits of a machine address of frame `max_mfn`: its frame number's bits
/// and the 12 of the page offset.
fn machine_address_bits(max_mfn: u64) -> u32 {
    (64 - max_mfn.leading_zeros()) + 12
}
