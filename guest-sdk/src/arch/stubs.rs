//! Where entry.S's stubs are: the trap table and the upcall callback point
//! at them.

unsafe extern "C" {
    /// Entry stubs for vectors 0-31, from entry.S.
    static GUEST_TRAP_STUBS: [u64; 32];
    /// The event upcall's entry stub, from entry.S.
    fn guest_sdk_upcall_entry();
    /// The syscall callback's entry stub, from entry.S.
    fn guest_sdk_syscall_entry();
}

/// Address of the syscall callback's entry stub.
pub fn syscall_entry() -> u64 {
    guest_sdk_syscall_entry as *const () as usize as u64
}

/// Address of the event upcall's entry stub.
pub fn upcall_entry() -> u64 {
    guest_sdk_upcall_entry as *const () as usize as u64
}

/// Address of the entry stub for `vector` (0-31).
pub fn trap_stub(vector: u8) -> u64 {
    // SAFETY: an immutable table of addresses emitted by entry.S.
    let stubs = unsafe { &*(&raw const GUEST_TRAP_STUBS) };
    stubs[usize::from(vector) % 32]
}
