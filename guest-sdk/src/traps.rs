//! The guest's own exception handlers.
//!
//! [`install`] registers Rust handlers and gives the hypervisor a trap table
//! pointing at the SDK's entry stubs. When the hypervisor bounces an
//! exception, the stub saves the registers as a [`TrapFrame`], calls the
//! handler, and returns with a plain `iretq`, as Xen PV kernels do.

use crate::XenError;
pub use crate::trap_frame::TrapFrame;
use spin::Mutex;
use xen_abi::trap::{FLAT_KERNEL_CS, TrapInfo};

/// A Rust exception handler.
pub type TrapHandler = fn(&mut TrapFrame);

/// Registered handlers by vector.
static HANDLERS: Mutex<[Option<TrapHandler>; 32]> = Mutex::new([None; 32]);

/// Registers `handlers` (vector, handler) and installs the trap table.
/// Vectors 3 and 4 (`int3`, `into`) are open to `int n` from the kernel.
pub fn install(handlers: &[(u8, TrapHandler)]) -> Result<(), XenError> {
    let mut table = [TrapInfo {
        vector: 0,
        flags: 0,
        cs: 0,
        _pad0: 0,
        address: 0,
    }; 33];
    let mut registered = HANDLERS.lock();
    for (slot, &(vector, handler)) in handlers.iter().take(32).enumerate() {
        let Some(entry) = registered.get_mut(usize::from(vector)) else {
            return Err(XenError {
                code: xen_abi::errno::Errno::EINVAL.as_return(),
            });
        };
        *entry = Some(handler);
        table[slot] = TrapInfo {
            vector,
            flags: if matches!(vector, 3 | 4) { 3 } else { 0 },
            cs: FLAT_KERNEL_CS,
            _pad0: 0,
            address: stub_address(vector),
        };
    }
    drop(registered);
    let used = handlers.len().min(32);
    crate::hypercall::set_trap_table(&table[..=used])
}

/// Where the entry stub for `vector` is.
fn stub_address(vector: u8) -> u64 {
    #[cfg(target_os = "none")]
    {
        crate::arch::stubs::trap_stub(vector)
    }
    #[cfg(not(target_os = "none"))]
    {
        u64::from(vector)
    }
}

/// Called by the entry stubs: runs the registered handler, or reports the
/// exception and crashes the domain.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
pub(crate) fn dispatch(frame: &mut TrapFrame) {
    if frame.vector == crate::user::SYSCALL_VECTOR {
        return crate::user::dispatch(frame);
    }
    let handler = HANDLERS
        .try_lock()
        .and_then(|handlers| handlers.get(frame.vector as usize).copied().flatten());
    match handler {
        Some(handler) => handler(frame),
        None => {
            crate::println!("guest: unhandled exception {} at {:#x}", frame.vector, frame.rip);
            crate::sched::crash()
        }
    }
}
