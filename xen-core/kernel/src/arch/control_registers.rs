//! Thin readers of the control registers a crash report shows, and of the
//! debug status.

/// CR2: the linear address of the last page fault.
pub fn cr2() -> u64 {
    x86_64::registers::control::Cr2::read_raw()
}

/// CR3: the current page-table root and its flags.
pub fn cr3() -> u64 {
    let (frame, flags) = x86_64::registers::control::Cr3::read_raw();
    frame.start_address().as_u64() | u64::from(flags)
}

/// DR6 with no condition recorded (its reserved bits read as ones).
const DEBUG_STATUS_CLEAR: u64 = 0xffff_0ff0;

/// DR6, the causes of the last #DB, reset for the next one: the CPU only
/// ever sets its condition bits.
pub fn take_debug_status() -> u64 {
    let status = x86_64::registers::debug::Dr6::read_raw();
    // SAFETY: writing DR6 changes no translation, stack or control flow; the
    // value is its architectural reset value.
    unsafe { core::arch::asm!("mov dr6, {}", in(reg) DEBUG_STATUS_CLEAR, options(nomem, nostack)) };
    status
}
