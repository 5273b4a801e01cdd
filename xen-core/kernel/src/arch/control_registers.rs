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

/// DR6 at the last #DB, for the guest that raised it.
static DEBUG_STATUS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(DEBUG_STATUS_CLEAR);

/// DR6 as the last #DB left it.
pub fn guest_debug_status() -> u64 {
    DEBUG_STATUS.load(core::sync::atomic::Ordering::Relaxed)
}

/// DR6, the causes of the last #DB, reset for the next one: the CPU only
/// ever sets its condition bits. Kept for [`guest_debug_status`].
pub fn take_debug_status() -> u64 {
    let status = x86_64::registers::debug::Dr6::read_raw();
    DEBUG_STATUS.store(status, core::sync::atomic::Ordering::Relaxed);
    // SAFETY: writing DR6 changes no translation, stack or control flow; the
    // value is its architectural reset value.
    unsafe { core::arch::asm!("mov dr6, {}", in(reg) DEBUG_STATUS_CLEAR, options(nomem, nostack)) };
    status
}

/// Whether the CPU's DR7 may enable a guest's breakpoints now.
static GUEST_BREAKPOINTS_LOADED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Loads a guest's DR0–DR3, DR6 and DR7 (`Some`), or disables its
/// breakpoints (`None`), which costs nothing when none were loaded.
pub fn load_debug_registers(values: Option<[u64; 6]>) {
    use core::sync::atomic::Ordering;
    match values {
        Some([dr0, dr1, dr2, dr3, dr6, dr7]) => {
            // SAFETY: the addresses were checked to lie outside the
            // hypervisor's range (a data breakpoint the hypervisor's own
            // guest copies hit arrives as a #DB in ring 0, which
            // debug_trap notes and passes over); DR6 and DR7 were given
            // their fixed bits, DR7 without GD or I/O breakpoints.
            unsafe {
                core::arch::asm!(
                    "mov dr0, {}", "mov dr1, {}", "mov dr2, {}", "mov dr3, {}", "mov dr6, {}", "mov dr7, {}",
                    in(reg) dr0, in(reg) dr1, in(reg) dr2, in(reg) dr3, in(reg) dr6, in(reg) dr7,
                    options(nomem, nostack)
                );
            }
            GUEST_BREAKPOINTS_LOADED.store(true, Ordering::Relaxed);
        }
        None => {
            if GUEST_BREAKPOINTS_LOADED.swap(false, Ordering::Relaxed) {
                // SAFETY: DR7's reset value enables nothing.
                unsafe { core::arch::asm!("mov dr7, {}", in(reg) 0x400u64, options(nomem, nostack)) };
            }
        }
    }
}
