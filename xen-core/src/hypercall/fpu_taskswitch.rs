//! `fpu_taskswitch`: the virtual CR0.TS, which a PV guest cannot set itself
//! from ring 3.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use xen_abi::errno::Errno;

/// `fpu_taskswitch(set)`: sets or clears the virtual CR0.TS.
pub fn fpu_taskswitch<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    context
        .domain
        .vcpu
        .update_loadable(|state| state.fpu_task_switched = args[0] != 0);
    Ok(Completion::Value(0))
}
