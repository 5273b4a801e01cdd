//! `vm_assist`: optional hypervisor assists.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use xen_abi::errno::Errno;
use xen_abi::mmu::{VMASST_CMD_DISABLE, VMASST_CMD_ENABLE, VMASST_TYPE_M2P_STRICT, VMASST_TYPE_RUNSTATE_UPDATE_FLAG};

/// `vm_assist(cmd, type)`. The assists that change nothing for a guest without
/// runstate areas or a writable M2P are accepted; the others (writable page
/// tables, architectural IOPL, 32-bit segment tricks) are not implemented and
/// refused with `-EINVAL`, as Xen refuses assists it does not offer.
pub fn vm_assist<P: Platform>(_context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, kind, ..] = args;
    if !matches!(u32::try_from(command), Ok(VMASST_CMD_ENABLE | VMASST_CMD_DISABLE)) {
        return Err(Errno::ENOSYS);
    }
    match u32::try_from(kind) {
        Ok(VMASST_TYPE_RUNSTATE_UPDATE_FLAG | VMASST_TYPE_M2P_STRICT) => Ok(Completion::Value(0)),
        _ => Err(Errno::EINVAL),
    }
}
