//! Xen's forced-emulation prefix: `ud2; .ascii "xen"` before `cpuid` makes
//! the #UD it raises a request for the hypervisor's CPUID view
//! (`XEN_CPUID` in `arch-x86/xen.h`). It is how a Xen-aware guest finds
//! the hypervisor and reads the hypervisor leaves, from kernel or user
//! mode; CPUID is the only instruction a PV guest may put after it.

use crate::arch::{GuestMemory, Machine};
use crate::cpuid::{CpuidContext, guest_cpuid};
use crate::guest_copy::copy_from_guest;
use crate::rflags::RF;
use crate::trap_frame::TrapFrame;
use xen_abi::cpuid::{CPUID_OPCODE, XEN_EMULATE_PREFIX};

/// What became of an invalid-opcode fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForcedEmulation {
    /// The prefixed CPUID ran: RIP is past it.
    Done,
    /// No prefix, or something other than CPUID after it: a #UD for the
    /// guest, RIP unchanged.
    InvalidOpcode,
    /// The bytes at RIP could not all be read: a #PF for the guest at this
    /// address (Xen reads before it compares, so even a plain `ud2` before
    /// an unmapped page gets it).
    PageFault(u64),
}

/// Emulates the prefixed CPUID at the guest's RIP, if that is what raised
/// the #UD; the machine runs the real `cpuid` for the host's leaves.
pub fn emulate_forced_invalid_op<M: Machine>(
    frame: &mut TrapFrame,
    machine: &mut M,
    context: &CpuidContext,
) -> ForcedEmulation {
    let guest = machine.guest();
    let mut prefix = [0u8; XEN_EMULATE_PREFIX.len()];
    if let Err(address) = fetch(guest, frame.rip, &mut prefix) {
        return ForcedEmulation::PageFault(address);
    }
    if prefix != XEN_EMULATE_PREFIX {
        return ForcedEmulation::InvalidOpcode;
    }
    let after = frame.rip.wrapping_add(prefix.len() as u64);
    let mut opcode = [0u8; CPUID_OPCODE.len()];
    if let Err(address) = fetch(guest, after, &mut opcode) {
        return ForcedEmulation::PageFault(address);
    }
    if opcode != CPUID_OPCODE {
        return ForcedEmulation::InvalidOpcode;
    }
    let mut host = |leaf, subleaf| machine.cpuid(leaf, subleaf);
    let [eax, ebx, ecx, edx] = guest_cpuid(&mut host, frame.rax as u32, frame.rcx as u32, context);
    (frame.rax, frame.rbx, frame.rcx, frame.rdx) = (eax.into(), ebx.into(), ecx.into(), edx.into());
    frame.rip = after.wrapping_add(opcode.len() as u64);
    frame.rflags &= !RF;
    ForcedEmulation::Done
}

/// Reads the instruction bytes at `address`; on a fault, the first byte
/// that could not be read.
fn fetch(guest: &mut impl GuestMemory, address: u64, out: &mut [u8]) -> Result<(), u64> {
    if copy_from_guest(guest, address, out).is_ok() {
        return Ok(());
    }
    for (offset, byte) in out.iter_mut().enumerate() {
        let at = address.wrapping_add(offset as u64);
        copy_from_guest(guest, at, core::slice::from_mut(byte)).map_err(|_| at)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::fake_machine::FakeMachine;
    use crate::cpuid::Leaf;
    use crate::time::time_scale::TimeScale;

    const CODE: u64 = 0x40_0000;
    const CONTEXT: CpuidContext = CpuidContext {
        version: (4, 17),
        tsc_scale: TimeScale { mul: 1 << 31, shift: 1 },
        max_mfn: 0xffff,
        hardware_domain_kernel: false,
    };

    fn host(leaf: u32, _subleaf: u32) -> Leaf {
        match leaf {
            0 => [0xd, 1, 2, 3],
            _ => [0; 4],
        }
    }

    fn run(code: &[u8], at: u64) -> (ForcedEmulation, TrapFrame) {
        let mut machine = FakeMachine {
            host_cpuid: Some(host),
            ..FakeMachine::default()
        };
        machine.platform.guest.map(CODE, true);
        machine.platform.guest.write(at, code).unwrap();
        let mut frame = TrapFrame {
            rip: at,
            rax: 0x4000_0000,
            rflags: 0x10202,
            ..TrapFrame::default()
        };
        let result = emulate_forced_invalid_op(&mut frame, &mut machine, &CONTEXT);
        (result, frame)
    }

    #[test]
    fn the_prefixed_cpuid_answers_with_the_hypervisor_leaf_and_steps_over_seven_bytes() {
        let (result, frame) = run(&[0x0f, 0x0b, b'x', b'e', b'n', 0x0f, 0xa2], CODE);
        assert_eq!(result, ForcedEmulation::Done);
        assert_eq!(
            (frame.rax, frame.rbx, frame.rcx, frame.rdx),
            (0x4000_0005, 0x566e_6558, 0x6558_4d4d, 0x4d4d_566e)
        );
        assert_eq!(frame.rip, CODE + 7);
        assert_eq!(frame.rflags & RF, 0, "RF cleared, as after any emulated instruction");
    }

    #[test]
    fn anything_but_cpuid_after_the_prefix_or_no_prefix_is_an_invalid_opcode() {
        for code in [
            &[0x0f, 0x0b, b'x', b'e', b'n', 0x0f, 0x31][..], // rdtsc
            &[0x0f, 0x0b, b'x', b'e', b'N', 0x0f, 0xa2],
            &[0x0f, 0x0b, 0x90, 0x90, 0x90, 0x90, 0x90],
        ] {
            let (result, frame) = run(code, CODE);
            assert_eq!(result, ForcedEmulation::InvalidOpcode, "{code:x?}");
            assert_eq!((frame.rip, frame.rax), (CODE, 0x4000_0000), "nothing changed");
        }
    }

    #[test]
    fn bytes_past_the_mapping_are_a_page_fault_at_the_first_missing_byte() {
        // The prefix ends the page: the CPUID after it is not mapped.
        let at = CODE + 4096 - 5;
        let (result, _) = run(&[0x0f, 0x0b, b'x', b'e', b'n'], at);
        assert_eq!(result, ForcedEmulation::PageFault(CODE + 4096));
        // A plain ud2 two bytes before the end: Xen reads five first.
        let (result, _) = run(&[0x0f, 0x0b], CODE + 4096 - 2);
        assert_eq!(result, ForcedEmulation::PageFault(CODE + 4096));
    }
}
