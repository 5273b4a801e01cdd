//! The register frame the exception stubs build, and the Rust side of the entry.

/// General registers as `exception_common` pushes them, then the vector, the
/// error code and the frame the CPU pushed.
#[repr(C)]
#[derive(Debug)]
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
    /// Exception vector (0–31).
    pub vector: u64,
    /// Error code, 0 for vectors where the CPU pushes none.
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Called by `exception_common` with the saved frame.
///
/// Today every exception is the hypervisor's own fault (no guest runs yet), so
/// each one ends in a crash report.
#[unsafe(no_mangle)]
extern "C" fn exception_dispatch(frame: &mut TrapFrame) {
    crate::crash_report::report_exception(frame);
}
