//! `physdev_op`: device access for driver domains.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::guest_copy::read_from_guest;
use xen_abi::errno::Errno;
use xen_abi::physdev::{PHYSDEVOP_SET_IOPL, PhysdevSetIopl};

/// `physdev_op(cmd, arg)`: only `set_iopl`, which any domain may use, as
/// on Xen: the level is virtual, and which ports it reaches is still
/// `io_ports`' decision (dom0 drives devices through them, and leaves QEMU
/// through isa-debug-exit the same way on real Xen and here; a domU's reads
/// see all ones and its writes go nowhere).
pub fn physdev_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, argument, ..] = args;
    if u32::try_from(command) != Ok(PHYSDEVOP_SET_IOPL) {
        return Err(Errno::ENOSYS);
    }
    let request: PhysdevSetIopl = read_from_guest(context.platform.guest(), argument)?;
    if request.iopl > 3 {
        return Err(Errno::EINVAL);
    }
    context.domain.vcpu.set_iopl(request.iopl as u8);
    Ok(Completion::Value(0))
}
