//! The register frame of every entry into the hypervisor.
//!
//! The kernel's entry assembly (`exception_entry.S`) builds exactly this layout
//! on the hypervisor stack for exceptions, the `int 0x82` gate and `syscall`,
//! and returns to whatever it holds afterwards with `iretq`. Portable code reads
//! and edits guest state through it: hypercall arguments and results, bounces
//! to the guest's handlers.

/// `vector` of a frame built by the `syscall` entry (not a real vector).
pub const SYSCALL_VECTOR: u64 = 0x100;
/// `vector` of the `int 0x82` hypercall gate.
pub const HYPERCALL_GATE_VECTOR: u64 = 0x82;

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

/// Size the entry assembly reserves for a frame (`TRAP_FRAME_SIZE`).
pub const TRAP_FRAME_SIZE: usize = 22 * 8;
const _: () = assert!(core::mem::size_of::<TrapFrame>() == TRAP_FRAME_SIZE);

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
        const IF: u64 = 1 << 9;
        const IOPL: u64 = 3 << 12;
        let top = self.rip >> 47;
        let canonical = top == 0 || top == 0x1_ffff;
        canonical
            && matches!(self.cs, 0xe033 | 0xe023)
            && self.ss == 0xe02b
            && self.rflags & IF != 0
            && self.rflags & IOPL == 0
    }

    /// Hypercall number and arguments (RAX; RDI, RSI, RDX, R10, R8).
    pub const fn hypercall(&self) -> (u64, [u64; 5]) {
        (self.rax, [self.rdi, self.rsi, self.rdx, self.r10, self.r8])
    }
}
