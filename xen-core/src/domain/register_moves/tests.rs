//! Control and debug register moves over a fake platform.

use super::*;
use crate::arch::GuestMemory;
use crate::arch::fake::FakePlatform;
use crate::mm::FrameInfo;
use crate::mm::pte_rules::HYPERVISOR_L4_SLOTS;

const CODE: u64 = 0x10_0000;

struct Cpu {
    domain: PvDomain,
    frame: TrapFrame,
    platform: FakePlatform,
    frames: FrameTable<'static>,
}

fn cpu() -> Cpu {
    let mut platform = FakePlatform::default();
    platform.guest.map(CODE, true);
    Cpu {
        domain: PvDomain::new(1, "d", Mfn(0x80), 16),
        frame: TrapFrame {
            rip: CODE,
            ..TrapFrame::default()
        },
        platform,
        frames: FrameTable::new(std::vec![FrameInfo::FREE; 16].leak(), [0; HYPERVISOR_L4_SLOTS]),
    }
}

impl Cpu {
    fn run(&mut self, code: &[u8]) -> Option<Move> {
        self.frame.rip = CODE;
        self.platform.guest.write(CODE, code).unwrap();
        emulate_register_move(
            &mut self.domain,
            &mut self.frame,
            &mut self.platform,
            &mut self.frames,
            code,
        )
    }
}

#[test]
fn cr0_shows_the_virtual_ts_and_a_write_may_change_ts_alone() {
    let mut cpu = cpu();
    assert_eq!(cpu.run(&[0x0f, 0x20, 0xc0]), Some(Move::Done)); // mov %cr0, %rax
    assert_eq!((cpu.frame.rax, cpu.frame.rip), (GUEST_CR0, CODE + 3));
    cpu.frame.rbx = GUEST_CR0 | CR0_TS;
    assert_eq!(cpu.run(&[0x0f, 0x22, 0xc3]), Some(Move::Done)); // mov %rbx, %cr0
    assert!(cpu.domain.vcpu.loadable().fpu_task_switched);
    cpu.frame.rbx = GUEST_CR0 & !(1 << 16); // WP off
    assert_eq!(cpu.run(&[0x0f, 0x22, 0xc3]), Some(Move::GeneralProtection));
    assert_eq!(cpu.run(&[0x0f, 0x06]), Some(Move::Done)); // clts
    assert!(!cpu.domain.vcpu.loadable().fpu_task_switched);
    assert_eq!(cpu.frame.rip, CODE + 2);
}

#[test]
fn cr2_cr3_and_cr4_read_as_xen_shows_them_and_r8_to_r15_are_reached_with_rex() {
    let mut cpu = cpu();
    cpu.domain.vcpu.cr2 = 0xdead_b000;
    assert_eq!(cpu.run(&[0x41, 0x0f, 0x20, 0xd1]), Some(Move::Done)); // mov %cr2, %r9
    assert_eq!((cpu.frame.r9, cpu.frame.rip), (0xdead_b000, CODE + 4));
    assert_eq!(cpu.run(&[0x0f, 0x20, 0xe1]), Some(Move::Done)); // mov %cr4, %rcx
    assert_eq!(cpu.frame.rcx, GUEST_CR4);
    cpu.frame.rcx = GUEST_CR4 | 1 << 16 | 1 << 7; // FSGSBASE, PGE
    assert_eq!(cpu.run(&[0x0f, 0x22, 0xe1]), Some(Move::Done), "dropped, no fault");
    assert_eq!(cpu.run(&[0x0f, 0x20, 0xe1]), Some(Move::Done));
    assert_eq!(cpu.frame.rcx, GUEST_CR4);
    assert_eq!(cpu.run(&[0x0f, 0x20, 0xd8]), Some(Move::Done)); // mov %cr3, %rax
    assert_eq!(cpu.frame.rax, 0, "no kernel base in this fake");
    assert_eq!(cpu.run(&[0x44, 0x0f, 0x20, 0xc0]), Some(Move::GeneralProtection), "CR8");
}

#[test]
fn debug_registers_take_set_debugregs_checks() {
    let mut cpu = cpu();
    cpu.frame.rax = 0x40_0000;
    assert_eq!(cpu.run(&[0x0f, 0x23, 0xc0]), Some(Move::Done)); // mov %rax, %dr0
    assert_eq!(cpu.domain.vcpu.debug_register(0), Ok(0x40_0000));
    cpu.frame.rax = 0xffff_8300_0000_0000;
    assert_eq!(
        cpu.run(&[0x0f, 0x23, 0xc8]),
        Some(Move::GeneralProtection),
        "DR1 on the hypervisor"
    );
    assert_eq!(cpu.run(&[0x0f, 0x21, 0xf2]), Some(Move::Done)); // mov %dr6, %rdx
    assert_eq!(cpu.frame.rdx, 0xffff_0ff0);
    assert_eq!(cpu.run(&[0x44, 0x0f, 0x21, 0xc2]), Some(Move::InvalidOpcode), "DR8");
}

#[test]
fn other_instructions_are_not_register_moves() {
    let mut cpu = cpu();
    assert_eq!(cpu.run(&[0x0f, 0x30]), None, "wrmsr is not a register move");
    assert_eq!(cpu.run(&[0xee]), None);
}
