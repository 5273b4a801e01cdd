//! `set_trap_table`: the guest's virtual IDT.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::guest_copy::{element_address, read_from_guest};
use xen_abi::errno::Errno;
use xen_abi::trap::TrapInfo;

/// Entries processed per call before it preempts itself: the list ends only
/// at an entry with address 0, and a guest may make it as long as it likes.
const PER_CALL: u64 = 64;

/// `set_trap_table(list)`: installs entries until one with address 0; a NULL
/// list clears the table.
pub fn set_trap_table<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let list = args[0];
    if list == 0 {
        context.domain.vcpu.clear_traps();
        return Ok(Completion::Value(0));
    }
    for index in 0..PER_CALL {
        let entry: TrapInfo = read_from_guest(context.platform.guest(), element_address(list, index, 16)?)?;
        if entry.address == 0 {
            return Ok(Completion::Value(0));
        }
        context.domain.vcpu.set_trap(&entry)?;
    }
    Ok(Completion::Continue([element_address(list, PER_CALL, 16)?, 0, 0, 0, 0]))
}
