//! `callback_op`: registers or clears one of the guest kernel's entry points
//! by type.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::guest_copy::read_from_guest;
use xen_abi::errno::Errno;
use xen_abi::trap::{
    CALLBACKOP_REGISTER, CALLBACKOP_UNREGISTER, CALLBACKTYPE_EVENT, CALLBACKTYPE_FAILSAFE, CALLBACKTYPE_SYSCALL,
    CallbackRegister, CallbackUnregister,
};

/// `callback_op(cmd, arg)`: registers or clears one callback by type.
pub fn callback_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, argument, ..] = args;
    let (kind, address) = match u32::try_from(command) {
        Ok(CALLBACKOP_REGISTER) => {
            let register: CallbackRegister = read_from_guest(context.platform.guest(), argument)?;
            (register.kind, register.address)
        }
        Ok(CALLBACKOP_UNREGISTER) => {
            let unregister: CallbackUnregister = read_from_guest(context.platform.guest(), argument)?;
            (unregister.kind, 0)
        }
        _ => return Err(Errno::ENOSYS),
    };
    let mut callbacks = context.domain.vcpu.callbacks();
    match kind {
        CALLBACKTYPE_EVENT => callbacks.event = address,
        CALLBACKTYPE_FAILSAFE => callbacks.failsafe = address,
        CALLBACKTYPE_SYSCALL => callbacks.syscall = address,
        // NMI, sysenter and the 32-bit entries are not supported.
        _ => return Err(Errno::EINVAL),
    }
    context.domain.vcpu.set_callbacks(callbacks)?;
    Ok(Completion::Value(0))
}
