//! The hypervisor's CPUID leaves (Xen's `public/arch-x86/cpuid.h`) and the
//! forced-emulation prefix that lets a PV guest ask for them
//! (`XEN_EMULATE_PREFIX` in `public/arch-x86/xen.h`).

/// `XEN_EMULATE_PREFIX`: `ud2; .ascii "xen"`. An instruction after it is
/// emulated by the hypervisor (for PV guests: `cpuid` only).
pub const XEN_EMULATE_PREFIX: [u8; 5] = [0x0f, 0x0b, b'x', b'e', b'n'];
/// The `cpuid` instruction's bytes.
pub const CPUID_OPCODE: [u8; 2] = [0x0f, 0xa2];

/// `XEN_CPUID_FIRST_LEAF`: where the hypervisor leaves start.
pub const XEN_CPUID_FIRST_LEAF: u32 = 0x4000_0000;
/// `XEN_CPUID_MAX_NUM_LEAVES`: the leaves after the first (1 to 5).
pub const XEN_CPUID_MAX_NUM_LEAVES: u32 = 5;
/// `XEN_CPUID_SIGNATURE_EBX`: "XenV".
pub const XEN_CPUID_SIGNATURE_EBX: u32 = 0x566e_6558;
/// `XEN_CPUID_SIGNATURE_ECX`: "MMXe".
pub const XEN_CPUID_SIGNATURE_ECX: u32 = 0x6558_4d4d;
/// `XEN_CPUID_SIGNATURE_EDX`: "nVMM".
pub const XEN_CPUID_SIGNATURE_EDX: u32 = 0x4d4d_566e;
/// `XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD`: leaf 2 ECX, PV guests may
/// use `MMU_PT_UPDATE_PRESERVE_AD`.
pub const XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD: u32 = 1 << 0;
/// `XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK`: leaf 5 EBX, the machine address
/// width in bits.
pub const XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK: u32 = 0xff;
/// The MSR a guest writes to have a hypercall page filled (leaf 2 EBX).
pub const XEN_HYPERCALL_PAGE_MSR: u32 = 0x4000_0000;
