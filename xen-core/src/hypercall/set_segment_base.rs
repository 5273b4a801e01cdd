//! `set_segment_base`: the FS and GS bases, which a PV guest cannot load
//! itself from ring 3.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::domain::vcpu::LoadableState;
use crate::mm::layout::is_canonical;
use xen_abi::errno::Errno;
use xen_abi::trap::{SEGBASE_FS, SEGBASE_GS_KERNEL, SEGBASE_GS_USER, SEGBASE_GS_USER_SEL};

/// `set_segment_base(which, base)`. A non-canonical base would fault when
/// loaded into the MSR inside the hypervisor (XSA-193): refused.
pub fn set_segment_base<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    args: [u64; 5],
) -> Result<Completion, Errno> {
    let [which, base, ..] = args;
    if u32::try_from(which) == Ok(SEGBASE_GS_USER_SEL) {
        // Xen loads the selector into the user's GS (a bogus one as null,
        // without an error): the user GS base becomes its descriptor's.
        let selector = base as u16;
        let memory = context.platform.memory();
        let base = context.domain.data_segment_base(memory, selector).unwrap_or(0);
        context.domain.vcpu.update_loadable(|state| state.gs_base_user = base);
        return Ok(Completion::Value(0));
    }
    if !is_canonical(base) {
        return Err(Errno::EINVAL);
    }
    let set: fn(&mut LoadableState, u64) = match u32::try_from(which) {
        Ok(SEGBASE_FS) => |state, base| state.fs_base = base,
        Ok(SEGBASE_GS_USER) => |state, base| state.gs_base_user = base,
        Ok(SEGBASE_GS_KERNEL) => |state, base| state.gs_base_kernel = base,
        _ => return Err(Errno::EINVAL),
    };
    context.domain.vcpu.update_loadable(|state| set(state, base));
    Ok(Completion::Value(0))
}
