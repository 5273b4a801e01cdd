//! Thin readers of the control registers a crash report shows.

/// CR2: the linear address of the last page fault.
pub fn cr2() -> u64 {
    x86_64::registers::control::Cr2::read_raw()
}

/// CR3: the current page-table root and its flags.
pub fn cr3() -> u64 {
    let (frame, flags) = x86_64::registers::control::Cr3::read_raw();
    frame.start_address().as_u64() | u64::from(flags)
}
