//! `vm_assist`: optional hypervisor assists.
//!
//! A 64-bit PV guest may switch on or off the types Xen 4.17 lets it
//! (`VM_ASSIST_VALID` for PV64: 0–5 and 32); the domain keeps which are on,
//! and the behaviour each one selects reads them: `pae_extended_cr3` is
//! reported by `XENVER_get_features`, `architectural_iopl` makes the guest
//! kernel count as ring 0 for port access, `writable_pagetables` is what
//! writes to its own L1 tables need, `runstate_update_flag` marks runstate
//! updates in progress, `m2p_strict` is accepted (the read-only M2P is
//! never in a user L4 here), the 4 GiB segment types are meaningless for a
//! 64-bit guest and accepted as Xen accepts them.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use xen_abi::errno::Errno;
use xen_abi::mmu::{VMASST_CMD_DISABLE, VMASST_CMD_ENABLE, VMASST_TYPE_M2P_STRICT};

/// The types a 64-bit PV guest may use (Xen's `VM_ASSIST_VALID`).
const VALID: u64 = 0x3f | 1 << VMASST_TYPE_M2P_STRICT;

/// `vm_assist(cmd, type)`: -ENOSYS for another command, -EINVAL for a type
/// not in the valid set.
pub fn vm_assist<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, kind, ..] = args;
    let enable = match u32::try_from(command) {
        Ok(VMASST_CMD_ENABLE) => true,
        Ok(VMASST_CMD_DISABLE) => false,
        _ => return Err(Errno::ENOSYS),
    };
    let kind = u32::try_from(kind)
        .ok()
        .filter(|&kind| kind < 64 && VALID & (1 << kind) != 0)
        .ok_or(Errno::EINVAL)?;
    context.domain.set_vm_assist(kind, enable);
    Ok(Completion::Value(0))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{setup, value};
    use super::*;
    use xen_abi::hypercall as nr;
    use xen_abi::mmu::{VMASST_TYPE_ARCHITECTURAL_IOPL, VMASST_TYPE_WRITABLE_PAGETABLES};

    #[test]
    fn the_pv64_types_are_kept_and_others_refused() {
        let mut s = setup(false);
        let enable = u64::from(VMASST_CMD_ENABLE);
        for kind in [0, 1, 2, 3, 4, 5, 32] {
            assert_eq!(s.call(nr::VM_ASSIST, [enable, kind, 0, 0, 0]), Completion::Value(0));
        }
        assert!(s.domain.vm_assist(VMASST_TYPE_WRITABLE_PAGETABLES));
        for kind in [6, 31, 33, 64, u64::MAX] {
            assert_eq!(
                s.call(nr::VM_ASSIST, [enable, kind, 0, 0, 0]),
                value(Errno::EINVAL),
                "{kind}"
            );
        }
        let disable = u64::from(VMASST_CMD_DISABLE);
        assert_eq!(
            s.call(
                nr::VM_ASSIST,
                [disable, u64::from(VMASST_TYPE_ARCHITECTURAL_IOPL), 0, 0, 0]
            ),
            Completion::Value(0)
        );
        assert!(!s.domain.vm_assist(VMASST_TYPE_ARCHITECTURAL_IOPL));
        assert_eq!(s.call(nr::VM_ASSIST, [2, 2, 0, 0, 0]), value(Errno::ENOSYS));
    }
}
