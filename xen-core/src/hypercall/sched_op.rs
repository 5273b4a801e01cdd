//! `sched_op`: yield, block, shutdown.

use super::{Completion, HypercallContext};
use crate::arch::Platform;
use crate::domain::pv_domain::DomainState;
use crate::guest_copy::read_from_guest;
use xen_abi::errno::Errno;
use xen_abi::sched::{SCHEDOP_BLOCK, SCHEDOP_SHUTDOWN, SCHEDOP_YIELD, SHUTDOWN_WATCHDOG, SchedShutdown};

/// `SHUTDOWN_soft_reset`, the highest reason Xen accepts.
const SHUTDOWN_MAX: u32 = SHUTDOWN_WATCHDOG + 1;

/// `sched_op(cmd, arg)`.
///
/// With one domain and no event sources yet, `yield` and `block` return at
/// once: there is nothing else to run and nothing to wait for.
pub fn sched_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, argument, ..] = args;
    match u32::try_from(command) {
        Ok(SCHEDOP_YIELD) | Ok(SCHEDOP_BLOCK) => Ok(Completion::Value(0)),
        Ok(SCHEDOP_SHUTDOWN) => {
            let shutdown: SchedShutdown = read_from_guest(context.platform.guest(), argument)?;
            if shutdown.reason > SHUTDOWN_MAX {
                return Err(Errno::EINVAL);
            }
            context.domain.flush_console(context.platform);
            context.domain.state = DomainState::Shutdown(shutdown.reason);
            Ok(Completion::Value(0))
        }
        _ => Err(Errno::ENOSYS),
    }
}
