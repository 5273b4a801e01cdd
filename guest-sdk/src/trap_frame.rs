//! The registers the SDK's entry stubs save for an exception or a user
//! program's system call.

/// The guest's registers at the exception, as the stubs save them. Handlers
/// may change them (e.g. move `rip` past a faulting instruction).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(missing_docs)] // register names speak for themselves
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// Exception vector.
    pub vector: u64,
    /// Error code (0 where the CPU has none).
    pub error_code: u64,
    pub rip: u64,
    /// Code selector, RPL 0 for an exception in guest kernel mode; bits
    /// 32–39 hold the event mask saved by the hypervisor.
    pub cs: u64,
    /// RFLAGS, with IF reflecting the virtual interrupt flag.
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}
