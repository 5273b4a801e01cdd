//! Emulation of the privileged instructions a PV guest kernel may use.
//!
//! Guest kernels run at CPL 3, so privileged instructions raise #GP(0) and land
//! here. Allowed: moves to and from control and debug registers and `clts`
//! (`register_moves`), `wrmsr`/`rdmsr` of the FS and GS bases (Mini-OS sets its
//! per-CPU GS base this way), and port I/O for a domain granted an I/O
//! privilege level with `physdev_op(set_iopl)` (the control domain reaches
//! devices; a domU's reads see all ones and its writes go nowhere, as Xen
//! treats ports a domain was given none of). Anything else is a #GP for the
//! guest's own handler.

use super::io_ports::guest_may_access;
use super::pv_domain::PvDomain;
use super::register_moves::{Move, emulate_register_move};
use super::vcpu::LoadableState;
use crate::arch::{Machine, Platform};
use crate::exception_vector::GENERAL_PROTECTION;
use crate::guest_copy::copy_from_guest;
use crate::mm::FrameTable;
use crate::mm::layout::is_canonical;
use crate::trap_frame::TrapFrame;
use xen_abi::mmu::VMASST_TYPE_ARCHITECTURAL_IOPL;

/// `MSR_FS_BASE`.
const MSR_FS_BASE: u32 = 0xc000_0100;
/// `MSR_GS_BASE`: the guest kernel's GS base.
const MSR_GS_BASE: u32 = 0xc000_0101;
/// `MSR_SHADOW_GS_BASE`: for a PV guest, the user-mode GS base.
const MSR_SHADOW_GS_BASE: u32 = 0xc000_0102;
/// `MSR_APIC_BASE`: Xen shows the default base, enabled, vCPU 0 the BSP.
const MSR_APIC_BASE: u32 = 0x1b;
/// What a PV vCPU 0 reads from it.
const GUEST_APIC_BASE: u64 = 0xfee0_0000 | 1 << 11 | 1 << 8;
/// `MSR_PAT`: Xen's fixed PAT (`XEN_MSR_PAT`), which PV guests read.
const MSR_PAT: u32 = 0x277;
/// Xen's PAT value.
const XEN_MSR_PAT: u64 = 0x0000_0501_0007_0406;
/// `MSR_EFER`.
const MSR_EFER: u32 = 0xc000_0080;
/// `MSR_IA32_TSC`: reads the CPU's TSC, as Xen's `rdtsc` for a PV guest
/// without TSC emulation; writes are #GP.
const MSR_TSC: u32 = 0x10;
/// `MSR_IA32_MISC_ENABLE`: writes are ignored for a PV guest, as on Xen.
const MSR_MISC_ENABLE: u32 = 0x1a0;

/// What became of a #GP(0) raised by guest code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emulation {
    /// Emulated; RIP moved past the instruction.
    Done,
    /// Not allowed (or malformed): deliver #GP(0) to the guest (XSA-193 for
    /// non-canonical bases).
    GeneralProtection,
    /// Deliver #UD to the guest (a debug register that does not exist).
    InvalidOpcode,
}

/// Emulates the instruction at the guest's RIP, if it is one we allow.
pub fn emulate_privileged(
    domain: &mut PvDomain,
    frame: &mut TrapFrame,
    machine: &mut impl Machine,
    frames: &mut FrameTable<'_>,
) -> Emulation {
    let mut code = [0u8; 4];
    // Read as much as is there: an instruction at the end of a mapping is short.
    let fetched = (1..=code.len())
        .rev()
        .find(|&length| copy_from_guest(machine.guest(), frame.rip, &mut code[..length]).is_ok());
    let Some(fetched) = fetched else {
        return Emulation::GeneralProtection;
    };
    let code = &code[..fetched];
    if let Some(done) = emulate_register_move(domain, frame, machine, frames, code) {
        return match done {
            Move::Done => Emulation::Done,
            Move::GeneralProtection => Emulation::GeneralProtection,
            Move::InvalidOpcode => Emulation::InvalidOpcode,
        };
    }
    match code {
        [0x0f, 0x30, ..] => write_msr(domain, frame, machine),
        [0x0f, 0x32, ..] => read_msr(domain, frame, machine),
        _ => port_io(domain, frame, machine, code),
    }
}

/// `wrmsr` (kernel mode only): the FS and GS bases (canonical, XSA-193);
/// MISC_ENABLE accepted and ignored, as Xen does for a PV guest; any other
/// (the APIC base, PAT, the TSC...) is a #GP, as on Xen.
fn write_msr(domain: &mut PvDomain, frame: &mut TrapFrame, machine: &mut impl Machine) -> Emulation {
    if !domain.vcpu.kernel_mode() {
        return Emulation::GeneralProtection;
    }
    let value = (frame.rdx << 32) | (frame.rax & 0xffff_ffff);
    let set: fn(&mut LoadableState, u64) = match frame.rcx as u32 {
        MSR_FS_BASE => |state, value| state.fs_base = value,
        MSR_GS_BASE => |state, value| state.gs_base_kernel = value,
        MSR_SHADOW_GS_BASE => |state, value| state.gs_base_user = value,
        // Linux writes EFER back as it read it: that much is accepted.
        MSR_EFER if value == guest_efer(machine) => {
            frame.rip = frame.rip.wrapping_add(2);
            return Emulation::Done;
        }
        MSR_MISC_ENABLE => {
            frame.rip = frame.rip.wrapping_add(2);
            return Emulation::Done;
        }
        _ => return Emulation::GeneralProtection,
    };
    if !is_canonical(value) {
        return Emulation::GeneralProtection;
    }
    domain.vcpu.update_loadable(|state| set(state, value));
    frame.rip = frame.rip.wrapping_add(2);
    Emulation::Done
}

/// `rdmsr` (kernel mode only): the FS and GS bases, the APIC base, PAT,
/// EFER and the TSC as Xen shows them to a PV guest; any other reads 0 while the guest has
/// no #GP handler (Xen's "faking RDMSR" for early boot code) and is a #GP
/// once it has one.
fn read_msr(domain: &mut PvDomain, frame: &mut TrapFrame, machine: &mut impl Machine) -> Emulation {
    if !domain.vcpu.kernel_mode() {
        return Emulation::GeneralProtection;
    }
    let state = domain.vcpu.loadable();
    let value = match frame.rcx as u32 {
        MSR_FS_BASE => state.fs_base,
        MSR_GS_BASE => state.gs_base_kernel,
        MSR_SHADOW_GS_BASE => state.gs_base_user,
        MSR_APIC_BASE => GUEST_APIC_BASE,
        MSR_PAT => XEN_MSR_PAT,
        MSR_EFER => guest_efer(machine),
        MSR_TSC => machine.clock().0.tsc,
        // Xen's own range (the hypercall-page MSR and the rest) is never faked.
        msr if msr >> 16 != 0x4000 && domain.vcpu.trap(GENERAL_PROTECTION).address == 0 => 0,
        _ => return Emulation::GeneralProtection,
    };
    frame.rax = value & 0xffff_ffff;
    frame.rdx = value >> 32;
    frame.rip = frame.rip.wrapping_add(2);
    Emulation::Done
}

/// EFER as Xen shows it: the hypervisor's own (system calls, long mode
/// enabled and active, no-execute where the CPU has it), nothing else.
fn guest_efer(machine: &mut impl Machine) -> u64 {
    const SCE: u64 = 1 << 0;
    const LME: u64 = 1 << 8;
    const LMA: u64 = 1 << 10;
    const NXE: u64 = 1 << 11;
    let no_execute = machine.cpuid(0x8000_0001, 0)[3] & (1 << 20) != 0;
    SCE | LME | LMA | if no_execute { NXE } else { 0 }
}

/// `in`/`out` with an 8-bit immediate or DX port, 1, 2 (0x66 prefix) or 4 bytes.
fn port_io(domain: &mut PvDomain, frame: &mut TrapFrame, platform: &mut impl Platform, code: &[u8]) -> Emulation {
    // Virtual IOPL: the guest kernel counts as ring 1 (ring 0 with the
    // architectural_iopl assist), user mode as ring 3.
    let required = match (
        domain.vcpu.kernel_mode(),
        domain.vm_assist(VMASST_TYPE_ARCHITECTURAL_IOPL),
    ) {
        (true, true) => 0,
        (true, false) => 1,
        (false, _) => 3,
    };
    if domain.vcpu.iopl() < required {
        return Emulation::GeneralProtection;
    }
    let (operand_16, opcode, rest) = match code {
        [0x66, opcode, rest @ ..] => (true, *opcode, rest),
        [opcode, rest @ ..] => (false, *opcode, rest),
        [] => return Emulation::GeneralProtection,
    };
    let wide = opcode & 1 == 1;
    let size: u8 = match (wide, operand_16) {
        (false, _) => 1,
        (true, true) => 2,
        (true, false) => 4,
    };
    let (port, length) = match opcode {
        0xe4..=0xe7 => match rest.first() {
            Some(&immediate) => (u16::from(immediate), 2),
            None => return Emulation::GeneralProtection,
        },
        0xec..=0xef => ((frame.rdx & 0xffff) as u16, 1),
        _ => return Emulation::GeneralProtection,
    };
    let is_out = opcode & 2 == 2;
    // Only the control domain reaches devices; a domU's port access is
    // emulated as Xen does for ports it was given none of: reads see all
    // ones, writes go nowhere.
    let allowed = domain.privilege().is_some() && guest_may_access(port, size);
    if is_out {
        let mask = if size == 4 {
            0xffff_ffff
        } else {
            (1u64 << (size * 8)) - 1
        };
        if allowed {
            platform.port_write(port, size, (frame.rax & mask) as u32);
        }
    } else {
        let value = if allowed {
            u64::from(platform.port_read(port, size))
        } else {
            u64::MAX
        };
        frame.rax = match size {
            1 => (frame.rax & !0xff) | (value & 0xff),
            2 => (frame.rax & !0xffff) | (value & 0xffff),
            _ => value & 0xffff_ffff, // 32-bit results zero-extend, as on hardware
        };
    }
    frame.rip = frame.rip.wrapping_add(length + u64::from(operand_16));
    Emulation::Done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::GuestMemory;
    use crate::arch::fake::FakePlatform;
    use crate::arch::fake_machine::FakeMachine;
    use crate::mm::Mfn;

    const CODE: u64 = 0x10_0000;

    fn run(code: &[u8], iopl: u8, frame: TrapFrame) -> (Emulation, TrapFrame, PvDomain, FakePlatform) {
        run_as(0, code, iopl, frame)
    }

    /// The fake CPU's TSC (its clock) while the instruction runs.
    const FAKE_TSC: u64 = 0x1234_5678;

    /// A host whose CPU has no-execute.
    fn host(leaf: u32, _subleaf: u32) -> [u32; 4] {
        if leaf == 0x8000_0001 {
            [0, 0, 0, 1 << 20]
        } else {
            [0; 4]
        }
    }

    fn run_as(id: u16, code: &[u8], iopl: u8, frame: TrapFrame) -> (Emulation, TrapFrame, PvDomain, FakePlatform) {
        let mut machine = FakeMachine {
            host_cpuid: Some(host),
            ..FakeMachine::default()
        };
        let platform = &mut machine.platform;
        platform.now = FAKE_TSC;
        platform.guest.map(CODE, true);
        platform.guest.write(CODE, code).unwrap();
        let mut domain = PvDomain::new(id, "test", Mfn(0x80), 16);
        domain.vcpu.set_iopl(iopl);
        let mut frame = TrapFrame { rip: CODE, ..frame };
        let storage = std::vec![crate::mm::FrameInfo::FREE; 16].leak();
        let mut frames = FrameTable::new(storage, [0; crate::mm::pte_rules::HYPERVISOR_L4_SLOTS]);
        let result = emulate_privileged(&mut domain, &mut frame, &mut machine, &mut frames);
        (result, frame, domain, machine.platform)
    }

    #[test]
    fn wrmsr_sets_the_gs_base_and_moves_past_the_instruction() {
        let frame = TrapFrame {
            rcx: 0xc000_0101,
            rdx: 0xffff_ffff,
            rax: 0x8000_1000,
            ..TrapFrame::default()
        };
        let (result, frame, domain, _) = run(&[0x0f, 0x30], 0, frame);
        assert_eq!(result, Emulation::Done);
        assert_eq!(domain.vcpu.loadable().gs_base_kernel, 0xffff_ffff_8000_1000);
        assert_eq!(frame.rip, CODE + 2);
    }

    #[test]
    fn a_non_canonical_base_or_another_msr_is_a_general_protection() {
        let frame = TrapFrame {
            rcx: 0xc000_0100,
            rdx: 0x8000_0000,
            ..TrapFrame::default()
        };
        assert_eq!(run(&[0x0f, 0x30], 0, frame).0, Emulation::GeneralProtection, "XSA-193");
        let frame = TrapFrame {
            rcx: 0x1b,
            ..TrapFrame::default()
        }; // APIC base
        assert_eq!(run(&[0x0f, 0x30], 0, frame).0, Emulation::GeneralProtection);
        let frame = TrapFrame {
            rcx: 0x1a0,
            rax: 0x1234,
            ..TrapFrame::default()
        }; // MISC_ENABLE: ignored
        assert_eq!(run(&[0x0f, 0x30], 0, frame).0, Emulation::Done);
    }

    #[test]
    fn msrs_read_as_xen_shows_them_to_a_pv_guest() {
        let read = |msr: u64| {
            let frame = TrapFrame {
                rcx: msr,
                ..TrapFrame::default()
            };
            let (result, after, _, _) = run(&[0x0f, 0x32], 0, frame);
            (result, (after.rdx << 32) | after.rax)
        };
        assert_eq!(read(0x1b), (Emulation::Done, 0xfee0_0900), "APIC base, BSP, enabled");
        assert_eq!(read(0x277), (Emulation::Done, 0x0000_0501_0007_0406), "Xen's PAT");
        assert_eq!(read(0xc000_0080), (Emulation::Done, 0xd01), "EFER: SCE, LME, LMA, NXE");
        assert_eq!(read(0x10), (Emulation::Done, FAKE_TSC), "the CPU's TSC");
        assert_eq!(read(0x123), (Emulation::Done, 0), "faked while no #GP handler");
        assert_eq!(read(0x4000_0000), (Emulation::GeneralProtection, 0), "Xen's own range");
    }

    #[test]
    fn a_domus_port_access_reaches_no_device_reads_all_ones_and_goes_on() {
        let frame = TrapFrame {
            rdx: 0xf4,
            rax: 0x10,
            ..TrapFrame::default()
        };
        let (result, after, _, platform) = run_as(1, &[0xee], 1, frame);
        assert_eq!(result, Emulation::Done);
        assert!(platform.port_writes.is_empty(), "the write went nowhere");
        assert_eq!(after.rip, CODE + 1);
        let (result, after, _, _) = run_as(1, &[0xed], 1, frame); // in (%dx), %eax
        assert_eq!((result, after.rax), (Emulation::Done, 0xffff_ffff));
        let (result, _, _, _) = run_as(1, &[0xee], 0, frame);
        assert_eq!(result, Emulation::GeneralProtection, "no IOPL: #GP");
    }

    #[test]
    fn port_io_needs_the_virtual_iopl() {
        let frame = TrapFrame {
            rdx: 0xf4,
            rax: 0x10,
            ..TrapFrame::default()
        };
        let (result, _, _, platform) = run(&[0xee], 0, frame);
        assert_eq!(result, Emulation::GeneralProtection);
        assert!(platform.port_writes.is_empty());
        let (result, after, _, platform) = run(&[0xee], 1, frame);
        assert_eq!(result, Emulation::Done);
        assert_eq!(platform.port_writes, [(0xf4, 1, 0x10)]);
        assert_eq!(after.rip, CODE + 1);
    }

    #[test]
    fn port_io_decodes_sizes_immediates_and_reads() {
        // out %ax, $0x80 (66 e7 80)
        let frame = TrapFrame {
            rax: 0x1234_5678,
            ..TrapFrame::default()
        };
        let (_, after, _, platform) = run(&[0x66, 0xe7, 0x80], 1, frame);
        assert_eq!(platform.port_writes, [(0x80, 2, 0x5678)]);
        assert_eq!(after.rip, CODE + 3);
        // in $0x60, %al (e4 60): the fake port reads port ^ 0x5a5a.
        let frame = TrapFrame {
            rax: 0xffff_ffff_ffff_ffff,
            ..TrapFrame::default()
        };
        let (_, after, _, _) = run(&[0xe4, 0x60], 1, frame);
        assert_eq!(after.rax, 0xffff_ffff_ffff_ff3a, "only AL changes");
        // in %dx, %eax (ed): 32-bit results zero-extend.
        let frame = TrapFrame {
            rdx: 0x1f0,
            rax: u64::MAX,
            ..TrapFrame::default()
        };
        let (_, after, _, _) = run(&[0xed], 1, frame);
        assert_eq!(after.rax, 0x1f0 ^ 0x5a5a);
    }

    #[test]
    fn the_hypervisors_ports_are_dropped_or_read_as_all_ones() {
        // out %al, $0x21: unmasking the PIC would break the hypervisor.
        let frame = TrapFrame {
            rax: 0x00,
            ..TrapFrame::default()
        };
        let (result, after, _, platform) = run(&[0xe6, 0x21], 1, frame);
        assert_eq!(result, Emulation::Done, "emulated, as Xen does, but dropped");
        assert!(platform.port_writes.is_empty());
        assert_eq!(after.rip, CODE + 2);
        // in %dx, %al from PCI config space.
        let frame = TrapFrame {
            rdx: 0xcfc,
            rax: 0,
            ..TrapFrame::default()
        };
        let (_, after, _, _) = run(&[0xec], 1, frame);
        assert_eq!(after.rax, 0xff);
    }

    #[test]
    fn anything_else_or_unreadable_code_is_a_general_protection() {
        assert_eq!(
            run(&[0xfa], 3, TrapFrame::default()).0,
            Emulation::GeneralProtection,
            "cli"
        );
        assert_eq!(
            run(&[0xf4], 3, TrapFrame::default()).0,
            Emulation::GeneralProtection,
            "hlt"
        );
        let mut machine = FakeMachine::default();
        let mut domain = PvDomain::new(0, "test", Mfn(0x80), 16);
        let mut frame = TrapFrame {
            rip: 0xdead_0000,
            ..TrapFrame::default()
        };
        let storage = std::vec![crate::mm::FrameInfo::FREE; 16].leak();
        let mut frames = FrameTable::new(storage, [0; crate::mm::pte_rules::HYPERVISOR_L4_SLOTS]);
        assert_eq!(
            emulate_privileged(&mut domain, &mut frame, &mut machine, &mut frames),
            Emulation::GeneralProtection
        );
    }
}
