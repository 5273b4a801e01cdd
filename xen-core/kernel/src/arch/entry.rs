//! The first Rust code: called by the PVH stub in 64-bit mode on the boot stack.

/// Entered from `boot.S` with the physical address of `hvm_start_info`.
#[unsafe(no_mangle)]
extern "C" fn kernel_entry(start_info: u64) -> ! {
    crate::arch::boot_sequence::start(start_info)
}
