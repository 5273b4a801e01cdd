//! How control enters and leaves a PV kernel: the virtual trap table, the
//! callbacks of `callback.h`, the `iret` frame and the flat selectors of
//! `arch-x86/xen.h` and `arch-x86/xen-x86_64.h`.
//!
//! A PV kernel runs in ring 3 with the selectors below, which live in GDT
//! entries the hypervisor reserves; it never installs a real IDT, only a
//! [`TrapInfo`] table through `set_trap_table`.

use bitflags::bitflags;
use core::mem::{offset_of, size_of};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `struct trap_info` (16 bytes): one virtual IDT entry. A table ends with an
/// entry whose `address` is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct TrapInfo {
    /// Exception or interrupt vector.
    pub vector: u8,
    /// [`TRAP_FLAG_DPL_MASK`] and [`TRAP_FLAG_MASK_EVENTS`] bits.
    pub flags: u8,
    /// Code selector of the handler.
    pub cs: u16,
    /// Implicit C padding before `address`; zero.
    pub _pad0: u32,
    /// Handler address (canonical).
    pub address: u64,
}

/// [`TrapInfo::flags`] bits 0–1: lowest privilege allowed to raise the vector
/// with `int n` (0 never, 1–2 guest kernel, 3 anyone).
pub const TRAP_FLAG_DPL_MASK: u8 = 0x3;
/// [`TrapInfo::flags`] bit 2: mask events on entry (interrupt-gate behaviour).
pub const TRAP_FLAG_MASK_EVENTS: u8 = 1 << 2;

/// `struct iret_context` (72 bytes): the frame at RSP when a guest enters
/// `HYPERVISOR_iret` (the stub pushes RCX, R11 and RAX above the guest's).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct IretContext {
    /// RAX to return (the hypercall's "result").
    pub rax: u64,
    /// R11 to restore unless [`VGCF_IN_SYSCALL`].
    pub r11: u64,
    /// RCX to restore unless [`VGCF_IN_SYSCALL`].
    pub rcx: u64,
    /// `VGCF_*` flags pushed by the guest.
    pub flags: u64,
    /// Return RIP.
    pub rip: u64,
    /// Return CS.
    pub cs: u64,
    /// Return RFLAGS.
    pub rflags: u64,
    /// Return RSP.
    pub rsp: u64,
    /// Return SS.
    pub ss: u64,
}

/// `VGCF_in_syscall`: in [`IretContext::flags`], return as from `syscall`
/// (R11 and RCX are not restored).
pub const VGCF_IN_SYSCALL: u64 = 1 << 8;

/// `FLAT_RING3_CS32`: 32-bit ring-3 code; `STAR[63:48]` (`sysret` base).
pub const FLAT_RING3_CS32: u16 = 0xe023;
/// `FLAT_RING3_DS32`: ring-3 data.
pub const FLAT_RING3_DS32: u16 = 0xe02b;
/// `FLAT_RING3_SS32`: ring-3 stack (same descriptor as the data selector).
pub const FLAT_RING3_SS32: u16 = 0xe02b;
/// `FLAT_RING3_CS64`: 64-bit ring-3 code.
pub const FLAT_RING3_CS64: u16 = 0xe033;
/// `FLAT_RING3_DS64`: the null selector; 64-bit data needs no descriptor.
pub const FLAT_RING3_DS64: u16 = 0;
/// `FLAT_RING3_SS64`: 64-bit ring-3 stack.
pub const FLAT_RING3_SS64: u16 = 0xe02b;
/// `FLAT_KERNEL_CS64`: the PV kernel's code selector.
pub const FLAT_KERNEL_CS64: u16 = FLAT_RING3_CS64;
/// `FLAT_KERNEL_CS32`.
pub const FLAT_KERNEL_CS32: u16 = FLAT_RING3_CS32;
/// `FLAT_KERNEL_CS`: the PV kernel's code selector.
pub const FLAT_KERNEL_CS: u16 = FLAT_KERNEL_CS64;
/// `FLAT_KERNEL_DS64`.
pub const FLAT_KERNEL_DS64: u16 = FLAT_RING3_DS64;
/// `FLAT_KERNEL_DS32`.
pub const FLAT_KERNEL_DS32: u16 = FLAT_RING3_DS32;
/// `FLAT_KERNEL_DS`: the PV kernel's data selector (null).
pub const FLAT_KERNEL_DS: u16 = FLAT_KERNEL_DS64;
/// `FLAT_KERNEL_SS64`.
pub const FLAT_KERNEL_SS64: u16 = FLAT_RING3_SS64;
/// `FLAT_KERNEL_SS32`.
pub const FLAT_KERNEL_SS32: u16 = FLAT_RING3_SS32;
/// `FLAT_KERNEL_SS`: the PV kernel's stack selector.
pub const FLAT_KERNEL_SS: u16 = FLAT_KERNEL_SS64;
/// `FLAT_USER_CS64`.
pub const FLAT_USER_CS64: u16 = FLAT_RING3_CS64;
/// `FLAT_USER_CS32`.
pub const FLAT_USER_CS32: u16 = FLAT_RING3_CS32;
/// `FLAT_USER_CS`: guest user code selector.
pub const FLAT_USER_CS: u16 = FLAT_USER_CS64;
/// `FLAT_USER_DS64`.
pub const FLAT_USER_DS64: u16 = FLAT_RING3_DS64;
/// `FLAT_USER_DS32`.
pub const FLAT_USER_DS32: u16 = FLAT_RING3_DS32;
/// `FLAT_USER_DS`: guest user data selector (null).
pub const FLAT_USER_DS: u16 = FLAT_USER_DS64;
/// `FLAT_USER_SS64`.
pub const FLAT_USER_SS64: u16 = FLAT_RING3_SS64;
/// `FLAT_USER_SS32`.
pub const FLAT_USER_SS32: u16 = FLAT_RING3_SS32;
/// `FLAT_USER_SS`: guest user stack selector.
pub const FLAT_USER_SS: u16 = FLAT_USER_SS64;

/// `FIRST_RESERVED_GDT_PAGE`: GDT pages from here on belong to the hypervisor.
pub const FIRST_RESERVED_GDT_PAGE: usize = 14;
/// `FIRST_RESERVED_GDT_BYTE`: byte offset of the first reserved GDT page.
pub const FIRST_RESERVED_GDT_BYTE: usize = FIRST_RESERVED_GDT_PAGE * 4096;
/// `FIRST_RESERVED_GDT_ENTRY`: index of the first reserved GDT descriptor.
pub const FIRST_RESERVED_GDT_ENTRY: usize = FIRST_RESERVED_GDT_BYTE / 8;

/// `set_segment_base` register: FS base.
pub const SEGBASE_FS: u32 = 0;
/// `set_segment_base` register: user GS base.
pub const SEGBASE_GS_USER: u32 = 1;
/// `set_segment_base` register: kernel GS base.
pub const SEGBASE_GS_KERNEL: u32 = 2;
/// `set_segment_base` register: load the user GS selector given in bits 15:0.
pub const SEGBASE_GS_USER_SEL: u32 = 3;

/// `callback_op` command: register a callback ([`CallbackRegister`]).
pub const CALLBACKOP_REGISTER: u32 = 0;
/// `callback_op` command: unregister a callback ([`CallbackUnregister`]).
pub const CALLBACKOP_UNREGISTER: u32 = 1;

/// Callback type: event upcall entry.
pub const CALLBACKTYPE_EVENT: u16 = 0;
/// Callback type: entry used when segment registers cannot be reloaded.
pub const CALLBACKTYPE_FAILSAFE: u16 = 1;
/// Callback type: 64-bit `syscall` from guest user mode.
pub const CALLBACKTYPE_SYSCALL: u16 = 2;
/// Callback type: old `sysenter` number, unused on x86_64.
pub const CALLBACKTYPE_SYSENTER_DEPRECATED: u16 = 3;
/// Callback type: NMI.
pub const CALLBACKTYPE_NMI: u16 = 4;
/// Callback type: `sysenter` from 32-bit user mode.
pub const CALLBACKTYPE_SYSENTER: u16 = 5;
/// Callback type: 32-bit `syscall` from user mode.
pub const CALLBACKTYPE_SYSCALL32: u16 = 7;

bitflags! {
    /// `CALLBACKF_*`: bits of [`CallbackRegister::flags`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct CallbackFlags: u16 {
        /// Mask events while the callback runs.
        const MASK_EVENTS = 1 << 0;
    }
}

/// `struct callback_register` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct CallbackRegister {
    /// One of the `CALLBACKTYPE_*` values (C: `type`).
    pub kind: u16,
    /// [`CallbackFlags`] bits.
    pub flags: u16,
    /// Implicit C padding before `address`; zero.
    pub _pad0: u32,
    /// Entry point.
    pub address: u64,
}

/// `struct callback_unregister` (4 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct CallbackUnregister {
    /// One of the `CALLBACKTYPE_*` values (C: `type`).
    pub kind: u16,
    /// Unused.
    pub _unused: u16,
}

const _: () = {
    assert!(size_of::<TrapInfo>() == 16);
    assert!(offset_of!(TrapInfo, cs) == 2);
    assert!(offset_of!(TrapInfo, address) == 8);
    assert!(size_of::<IretContext>() == 72);
    assert!(offset_of!(IretContext, flags) == 24);
    assert!(offset_of!(IretContext, rip) == 32);
    assert!(offset_of!(IretContext, ss) == 64);
    assert!(FIRST_RESERVED_GDT_ENTRY == 7168);
    assert!(size_of::<CallbackRegister>() == 16);
    assert!(offset_of!(CallbackRegister, address) == 8);
    assert!(size_of::<CallbackUnregister>() == 4);
};
