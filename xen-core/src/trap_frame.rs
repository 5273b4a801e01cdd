//! The register frame of every entry into the hypervisor.
//!
//! The kernel's entry assembly (`exception_entry.S`) builds exactly this layout
//! on the hypervisor stack for exceptions, the `int 0x82` gate and `syscall`,
//! and returns to whatever it holds afterwards with `iretq`. Portable code reads
//! and edits guest state through it: hypercall arguments and results, bounces
//! to the guest's handlers.

use crate::mm::layout::is_canonical;
use crate::rflags::{IF, IOPL};
use xen_abi::hypercall::HYPERCALL_VECTOR;
use xen_abi::trap::{FLAT_RING3_CS32, FLAT_RING3_CS64, FLAT_RING3_SS64};

/// `vector` of a frame built by the `syscall` entry (not a real vector).
pub const SYSCALL_VECTOR: u64 = 0x100;
/// `vector` of a frame built for `syscall` from 32-bit guest code (CSTAR).
pub const SYSCALL32_VECTOR: u64 = 0x101;
/// `vector` of the `int 0x82` hypercall gate.
pub const HYPERCALL_GATE_VECTOR: u64 = HYPERCALL_VECTOR as u64;
/// The vector the local APIC timer raises: it ends a guest's slice.
pub const TIMER_VECTOR: u8 = 0xf0;

/// General registers as the entry code saves them, then the vector, the error
/// code and the five words of an interrupt frame.
///
/// The callee-saved registers (RBX, RBP, R12–R15) come first. The `syscall`
/// entry, the hypercall fast path, leaves their slots **undefined**: Rust
/// code preserves those registers itself, and no hypercall reads or writes
/// them in the frame. Code that would switch to another vCPU in the middle
/// of a hypercall must save them explicitly.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)] // register names speak for themselves
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rax: u64,
    /// Exception vector, [`HYPERCALL_GATE_VECTOR`] or [`SYSCALL_VECTOR`].
    pub vector: u64,
    /// Error code; 0 for vectors where the CPU pushes none.
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Size the entry assembly reserves for a frame (its `TRAP_FRAME_SIZE`).
pub const TRAP_FRAME_SIZE: usize = core::mem::size_of::<TrapFrame>();
const _: () = assert!(TRAP_FRAME_SIZE == 22 * 8);

/// The guest selectors a frame may return to, as the frame holds them.
const GUEST_CS64: u64 = FLAT_RING3_CS64 as u64;
const GUEST_CS32: u64 = FLAT_RING3_CS32 as u64;
const GUEST_SS: u64 = FLAT_RING3_SS64 as u64;

impl TrapFrame {
    /// Whether the frame was pushed on entry from ring 3, i.e. from a guest.
    pub const fn from_guest(&self) -> bool {
        self.cs & 3 == 3
    }

    /// Whether `iretq` to this frame is safe for the hypervisor: a guest
    /// selector, a canonical RIP, interrupts on and IOPL 0. `iretq` to a
    /// non-canonical RIP or a bad selector faults in ring 0, on the
    /// hypervisor's own stack, so a guest that could produce such a frame
    /// (through `iret`, an emulated instruction at the edge of the address
    /// space, ...) could crash the hypervisor; callers crash the domain instead.
    pub fn is_safe_guest_return(&self) -> bool {
        // 64-bit code needs a canonical RIP; 32-bit code one below 4 GiB (the
        // segment limit), or iretq faults in ring 0.
        let rip_ok = match self.cs {
            GUEST_CS64 => self.rip_is_canonical(),
            GUEST_CS32 => self.rip <= u64::from(u32::MAX),
            _ => false,
        };
        rip_ok && self.ss == GUEST_SS && self.rflags & IF != 0 && self.rflags & IOPL == 0
    }

    /// Whether RIP is canonical. Even a frame the CPU saved on entry may not
    /// be: `syscall` as the last instruction below 2^47 leaves RIP (RCX) at
    /// 0x8000_0000_0000, and `iretq` there would fault in ring 0. The one
    /// check every return path makes, however fast.
    pub const fn rip_is_canonical(&self) -> bool {
        is_canonical(self.rip)
    }

    /// Hypercall number and arguments (RAX; RDI, RSI, RDX, R10, R8).
    pub const fn hypercall(&self) -> (u64, [u64; 5]) {
        (self.rax, [self.rdi, self.rsi, self.rdx, self.r10, self.r8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(rip: u64, cs: u64) -> TrapFrame {
        TrapFrame {
            rip,
            cs,
            ss: GUEST_SS,
            rflags: 0x202,
            ..TrapFrame::default()
        }
    }

    #[test]
    fn a_syscall_at_the_top_of_the_lower_half_is_not_a_safe_return() {
        // The instruction after it would be at 2^47: non-canonical.
        assert!(!frame(0x0000_8000_0000_0000, GUEST_CS64).rip_is_canonical());
        assert!(!frame(0x0000_8000_0000_0000, GUEST_CS64).is_safe_guest_return());
        assert!(frame(0x0000_7fff_ffff_fffe, GUEST_CS64).is_safe_guest_return());
        assert!(frame(0xffff_8000_0000_0000, GUEST_CS64).rip_is_canonical());
    }

    #[test]
    fn thirty_two_bit_code_must_resume_below_four_gib() {
        assert!(frame(0xffff_fff0, GUEST_CS32).is_safe_guest_return());
        // A continuation rewinding RIP 0 by two bytes must not be accepted.
        assert!(!frame(0u64.wrapping_sub(2), GUEST_CS32).is_safe_guest_return());
        assert!(!frame(0x1_0000_0000, GUEST_CS32).is_safe_guest_return());
    }

    #[test]
    fn hypervisor_selectors_iopl_or_masked_interrupts_are_refused() {
        assert!(!frame(0x1000, 0xe008).is_safe_guest_return());
        assert!(
            !TrapFrame {
                rflags: 0x3202,
                ..frame(0x1000, GUEST_CS64)
            }
            .is_safe_guest_return()
        );
        assert!(
            !TrapFrame {
                rflags: 0x2,
                ..frame(0x1000, GUEST_CS64)
            }
            .is_safe_guest_return()
        );
        assert!(
            !TrapFrame {
                ss: 0xe010,
                ..frame(0x1000, GUEST_CS64)
            }
            .is_safe_guest_return()
        );
    }
}
