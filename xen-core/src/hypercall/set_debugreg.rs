//! `set_debugreg` and `get_debugreg`: the guest's debug registers.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use xen_abi::errno::Errno;

/// `set_debugreg(register, value)`: 0, or Xen's -EPERM, -EINVAL, -ENODEV.
pub fn set_debugreg<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [register, value, ..] = args;
    context.domain.vcpu.set_debug_register(register, value)?;
    Ok(Completion::Value(0))
}

/// `get_debugreg(register)`: the value, or -ENODEV (in the same register,
/// as on Xen).
pub fn get_debugreg<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let value = context.domain.vcpu.debug_register(args[0])?;
    Ok(Completion::Value(value as i64))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{setup, value};
    use super::*;
    use xen_abi::hypercall as nr;

    #[test]
    fn set_debugreg_checks_and_get_debugreg_reads_back() {
        let mut s = setup(false);
        assert_eq!(s.call(nr::SET_DEBUGREG, [0, 0x40_0000, 0, 0, 0]), Completion::Value(0));
        assert_eq!(s.call(nr::GET_DEBUGREG, [0, 0, 0, 0, 0]), Completion::Value(0x40_0000));
        assert_eq!(
            s.call(nr::SET_DEBUGREG, [1, 0xffff_8000_0000_0000, 0, 0, 0]),
            value(Errno::EPERM),
            "a breakpoint on the hypervisor"
        );
        assert_eq!(
            s.call(nr::SET_DEBUGREG, [7, 1 << 13, 0, 0, 0]),
            value(Errno::EPERM),
            "GD"
        );
        assert_eq!(s.call(nr::SET_DEBUGREG, [9, 0, 0, 0, 0]), value(Errno::ENODEV));
        assert_eq!(s.call(nr::GET_DEBUGREG, [9, 0, 0, 0, 0]), value(Errno::ENODEV));
        assert_eq!(s.domain.vcpu.registers_to_load().debug, None, "nothing enabled yet");
        assert_eq!(s.call(nr::SET_DEBUGREG, [7, 1, 0, 0, 0]), Completion::Value(0));
        let Some(crate::domain::vcpu::PendingLoad::All(loaded)) = s.domain.vcpu.take_loadable_state() else {
            panic!("marked for loading in full")
        };
        assert_eq!(
            loaded.debug,
            Some([0x40_0000, 0, 0, 0, 0xffff_0ff0, 0x401]),
            "DR0-3, DR6, DR7 reach the CPU once enabled"
        );
    }
}
