//! `callback_op`: registers or clears one of the guest kernel's entry points
//! by type.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::domain::vcpu::Callback;
use crate::exception_vector::NMI;
use crate::guest_copy::read_from_guest;
use crate::mm::layout::is_canonical;
use xen_abi::errno::Errno;
use xen_abi::trap::{
    CALLBACKOP_REGISTER, CALLBACKOP_UNREGISTER, CALLBACKTYPE_EVENT, CALLBACKTYPE_FAILSAFE, CALLBACKTYPE_NMI,
    CALLBACKTYPE_SYSCALL, CALLBACKTYPE_SYSCALL32, CALLBACKTYPE_SYSENTER, CallbackFlags, CallbackRegister,
    CallbackUnregister, FLAT_KERNEL_CS, TRAP_FLAG_MASK_EVENTS, TrapInfo,
};

/// `callback_op(cmd, arg)`: registers or clears one callback by type.
pub fn callback_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, argument, ..] = args;
    let (register, kind, callback) = match u32::try_from(command) {
        Ok(CALLBACKOP_REGISTER) => {
            let register: CallbackRegister = read_from_guest(context.platform.guest(), argument)?;
            if !is_canonical(register.address) {
                return Err(Errno::EINVAL);
            }
            let callback = Callback {
                address: register.address,
                masks_events: CallbackFlags::from_bits_truncate(register.flags).contains(CallbackFlags::MASK_EVENTS),
            };
            (true, register.kind, callback)
        }
        Ok(CALLBACKOP_UNREGISTER) => {
            let unregister: CallbackUnregister = read_from_guest(context.platform.guest(), argument)?;
            (false, unregister.kind, Callback::default())
        }
        _ => return Err(Errno::ENOSYS),
    };
    let vcpu = &mut context.domain.vcpu;
    let mut callbacks = vcpu.callbacks();
    let slot = match kind {
        // The NMI callback is the trap table's NMI entry, events masked; the
        // only one a guest may take back.
        CALLBACKTYPE_NMI => {
            vcpu.set_trap(&TrapInfo {
                vector: NMI,
                flags: TRAP_FLAG_MASK_EVENTS,
                cs: FLAT_KERNEL_CS,
                _pad0: 0,
                address: callback.address,
            })?;
            return Ok(Completion::Value(0));
        }
        CALLBACKTYPE_EVENT
        | CALLBACKTYPE_FAILSAFE
        | CALLBACKTYPE_SYSCALL
        | CALLBACKTYPE_SYSCALL32
        | CALLBACKTYPE_SYSENTER
            if !register =>
        {
            return Err(Errno::EINVAL);
        }
        CALLBACKTYPE_EVENT => {
            callbacks.event = callback.address;
            None
        }
        CALLBACKTYPE_FAILSAFE => Some(&mut callbacks.failsafe),
        CALLBACKTYPE_SYSCALL => Some(&mut callbacks.syscall),
        CALLBACKTYPE_SYSCALL32 => Some(&mut callbacks.syscall32),
        CALLBACKTYPE_SYSENTER => Some(&mut callbacks.sysenter),
        _ => return Err(Errno::ENOSYS),
    };
    if let Some(slot) = slot {
        *slot = callback;
    }
    vcpu.set_callbacks(callbacks)?;
    Ok(Completion::Value(0))
}
