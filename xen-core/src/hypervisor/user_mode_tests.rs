//! Guest user mode over the fake CPU: the user base, `iret` into user mode,
//! and every way back into the guest kernel (a `syscall`, an exception, an
//! `int`), each on the kernel's page tables and kernel stack.

use super::tests::{ARG, Run, start, start_domains};
use crate::arch::GuestMemory;
use crate::domain::vcpu::{Callback, Callbacks};
use crate::exception_vector::{GENERAL_PROTECTION, INVALID_OPCODE, PAGE_FAULT};
use crate::mm::Mfn;
use crate::trap_frame::{HYPERCALL_GATE_VECTOR, SYSCALL_VECTOR};
use xen_abi::hypercall as nr;
use xen_abi::mmu::{DOMID_SELF, MMUEXT_NEW_USER_BASEPTR, MmuextOp};
use xen_abi::trap::{FLAT_KERNEL_CS, FLAT_KERNEL_SS, FLAT_RING3_CS64, FLAT_RING3_SS64, IretContext, TrapInfo};
use zerocopy::{FromZeros, IntoBytes};

/// Where the guest kernel's stack for bounces from user mode ends.
const KERNEL_STACK: u64 = 0x30_0000;
/// Where the user program's stack is.
const USER_STACK: u64 = 0x50_0f00;
/// The user program's next instruction.
const USER_RIP: u64 = 0x40_1000;
/// The guest kernel's syscall entry.
const SYSCALL_ENTRY: u64 = 0xffff_ffff_8000_5000;
/// The guest kernel's exception handlers (vector added).
const HANDLERS: u64 = 0xffff_ffff_8000_6000;
/// The kernel's GS base, and the user program's.
const KERNEL_GS: u64 = 0xffff_ffff_8010_0000;
const USER_GS: u64 = 0x7000_0000;

impl Run {
    /// The domain on the CPU sets its user base with `mmuext_op`; the result.
    fn new_user_base(&mut self, mfn: u64) -> i64 {
        let op = MmuextOp {
            cmd: MMUEXT_NEW_USER_BASEPTR,
            arg1: mfn,
            ..MmuextOp::new_zeroed()
        };
        self.machine.platform.guest.write(ARG, op.as_bytes()).unwrap();
        self.hypercall(nr::MMUEXT_OP, [ARG, 1, 0, u64::from(DOMID_SELF), 0])
            .unwrap();
        self.frame.rax as i64
    }

    /// The guest kernel of the domain on the CPU: its syscall callback,
    /// kernel stack, GS bases and handlers for #UD, #GP and #PF.
    fn prepare_kernel(&mut self) {
        let id = self.current().unwrap();
        self.machine.platform.guest.map(KERNEL_STACK - 4096, true);
        self.machine.platform.guest.map(USER_STACK & !0xfff, true);
        let vcpu = &mut self.hypervisor.domains_mut().get_mut(id).unwrap().vcpu;
        let callbacks = Callbacks {
            syscall: Callback {
                address: SYSCALL_ENTRY,
                masks_events: true,
            },
            ..vcpu.callbacks()
        };
        vcpu.set_callbacks(callbacks).unwrap();
        vcpu.set_kernel_stack(FLAT_KERNEL_SS, KERNEL_STACK);
        vcpu.update_loadable(|state| {
            state.gs_base_kernel = KERNEL_GS;
            state.gs_base_user = USER_GS;
        });
        for vector in [INVALID_OPCODE, GENERAL_PROTECTION, PAGE_FAULT] {
            vcpu.set_trap(&TrapInfo {
                vector,
                flags: 0,
                cs: FLAT_KERNEL_CS,
                _pad0: 0,
                address: HANDLERS + u64::from(vector),
            })
            .unwrap();
        }
    }

    /// The guest kernel returns to its user program with the `iret`
    /// hypercall, from a frame on its stack.
    fn iret_to_user(&mut self) -> Result<(), super::RunEnd> {
        let context = IretContext {
            rax: 7,
            r11: 0x11,
            rcx: 0xc,
            flags: 0,
            rip: USER_RIP,
            cs: u64::from(FLAT_RING3_CS64),
            rflags: 0x202,
            rsp: USER_STACK,
            ss: u64::from(FLAT_RING3_SS64),
        };
        self.frame.rsp = KERNEL_STACK - 0x100;
        self.machine
            .platform
            .guest
            .write(self.frame.rsp, context.as_bytes())
            .unwrap();
        self.hypercall(nr::IRET, [0; 5])
    }

    fn kernel_mode(&self) -> bool {
        let id = self.current().unwrap();
        self.hypervisor.domains().get(id).unwrap().vcpu.kernel_mode()
    }

    /// `count` words of guest memory at `at`.
    fn words(&mut self, at: u64, count: usize) -> std::vec::Vec<u64> {
        let mut bytes = std::vec![0u8; count * 8];
        self.machine.platform.guest.read(at, &mut bytes).unwrap();
        bytes
            .chunks_exact(8)
            .map(|word| u64::from_le_bytes(word.try_into().unwrap()))
            .collect()
    }

    /// Runs from kernel mode into the user program, on a second L4.
    fn enter_user_program(&mut self) -> Mfn {
        self.prepare_kernel();
        let id = self.current().unwrap();
        let user_l4 = self.spare_frame(id);
        assert_eq!(self.new_user_base(user_l4.0), 0);
        assert_eq!(self.iret_to_user(), Ok(()));
        user_l4
    }
}

#[test]
fn iret_to_user_mode_without_a_user_base_crashes_the_domain_alone() {
    let mut run = start_domains(&[1, 2]);
    let first = run.current().unwrap();
    run.prepare_kernel();
    assert_eq!(run.iret_to_user(), Ok(()));
    assert_ne!(run.current(), Some(first), "the other domain runs");
    assert!(run.hypervisor.domains().get(first).is_none(), "the first is gone");
}

#[test]
fn iret_to_user_mode_switches_to_the_user_base_and_its_gs() {
    let mut run = start(1);
    let user_l4 = run.enter_user_program();
    assert!(!run.kernel_mode());
    assert_eq!(run.machine.platform.guest.bases.last(), Some(&user_l4));
    let frame = run.frame;
    assert_eq!(
        (
            frame.rip, frame.cs, frame.rsp, frame.ss, frame.rax, frame.rcx, frame.r11
        ),
        (
            USER_RIP,
            u64::from(FLAT_RING3_CS64),
            USER_STACK,
            u64::from(FLAT_RING3_SS64),
            7,
            0xc,
            0x11
        )
    );
    assert_eq!(
        run.machine.gs_bases,
        (USER_GS, KERNEL_GS),
        "the user's GS, the kernel's in the shadow"
    );
}

#[test]
fn a_user_syscall_reaches_the_kernels_callback_on_its_stack_and_tables() {
    let mut run = start(1);
    run.enter_user_program();
    let kernel_l4 = run.kernel_base();
    // `syscall` leaves the next RIP in RCX and RFLAGS in R11; the entry code
    // builds the frame from them.
    run.frame.rip = USER_RIP + 0x20;
    run.frame.rcx = run.frame.rip;
    run.frame.r11 = 0x246;
    run.frame.rflags = 0x246 | crate::rflags::DF;
    let user = run.frame;
    run.frame.vector = SYSCALL_VECTOR;
    run.hypervisor
        .handle_syscall(&run.cpu, &mut run.frame, &mut run.machine);
    assert!(run.kernel_mode(), "the syscall ends user mode");
    assert_eq!(run.machine.platform.guest.bases.last(), Some(&kernel_l4));
    assert_eq!(run.machine.gs_bases, (KERNEL_GS, USER_GS), "swapped back");
    let rsp = KERNEL_STACK - 7 * 8;
    assert_eq!(
        (run.frame.rip, run.frame.rsp, run.frame.cs, run.frame.ss),
        (SYSCALL_ENTRY, rsp, u64::from(FLAT_KERNEL_CS), u64::from(FLAT_KERNEL_SS))
    );
    assert_eq!(run.frame.rflags & crate::rflags::DF, 0, "entered with DF clear");
    let saved = run.words(rsp, 7);
    assert_eq!(
        saved,
        [
            user.rcx,
            user.r11,
            user.rip,
            u64::from(FLAT_RING3_CS64), // RPL 3: from user mode; events were on
            user.rflags,
            USER_STACK,
            u64::from(FLAT_RING3_SS64)
        ]
    );
    let id = run.current().unwrap();
    let memory = &run.machine.platform.memory;
    assert!(
        run.hypervisor.domains().get(id).unwrap().events_masked(memory),
        "the callback was registered to mask events"
    );
}

#[test]
fn a_user_syscall_without_a_callback_is_an_invalid_opcode_at_the_syscall() {
    let mut run = start(1);
    run.enter_user_program();
    let id = run.current().unwrap();
    let vcpu = &mut run.hypervisor.domains_mut().get_mut(id).unwrap().vcpu;
    vcpu.set_callbacks(Callbacks::default()).unwrap();
    run.frame.rip = USER_RIP + 2;
    run.frame.vector = SYSCALL_VECTOR;
    run.hypervisor
        .handle_syscall(&run.cpu, &mut run.frame, &mut run.machine);
    assert_eq!(run.frame.rip, HANDLERS + u64::from(INVALID_OPCODE));
    assert_eq!(run.words(run.frame.rsp, 3)[2], USER_RIP, "RIP back on the syscall");
    assert!(run.kernel_mode());
}

#[test]
fn a_user_page_fault_reaches_the_kernel_with_the_user_bit_on_its_stack() {
    let mut run = start(1);
    run.enter_user_program();
    let kernel_l4 = run.kernel_base();
    run.machine.cr2 = 0xdead_0000;
    run.frame.vector = u64::from(PAGE_FAULT);
    run.frame.error_code = 0b110; // user, write, not present
    run.hypervisor
        .handle_trap(&mut run.cpu, &mut run.frame, &mut run.machine)
        .unwrap();
    assert!(run.kernel_mode());
    assert_eq!(run.machine.platform.guest.bases.last(), Some(&kernel_l4));
    let rsp = KERNEL_STACK - 8 * 8;
    assert_eq!((run.frame.rip, run.frame.rsp), (HANDLERS + 14, rsp));
    let saved = run.words(rsp, 8);
    assert_eq!(saved[2], 0b110, "the user bit stays: it came from user mode");
    assert_eq!((saved[3], saved[4] & 3), (USER_RIP, 3));
    assert_eq!(saved[6], USER_STACK);
}

#[test]
fn int_0x82_from_user_mode_is_no_hypercall_but_a_general_protection_fault() {
    let mut run = start(1);
    run.enter_user_program();
    run.frame.rip = USER_RIP + 2; // after `int 0x82`
    run.frame.rax = u64::from(nr::SCHED_OP);
    run.frame.vector = HYPERCALL_GATE_VECTOR;
    run.hypervisor
        .handle_trap(&mut run.cpu, &mut run.frame, &mut run.machine)
        .unwrap();
    assert!(run.kernel_mode());
    assert_eq!(run.frame.rip, HANDLERS + u64::from(GENERAL_PROTECTION));
    let saved = run.words(run.frame.rsp, 4);
    assert_eq!((saved[2], saved[3]), ((0x82 << 3) | 2, USER_RIP), "#GP at the int");
}

#[test]
fn a_preempted_user_program_comes_back_on_its_user_tables() {
    let mut run = start(2);
    let first = run.current().unwrap();
    let user_l4 = run.enter_user_program();
    let user = run.frame;
    while run.current() == Some(first) {
        run.timer_fires().unwrap();
    }
    while run.current() != Some(first) {
        run.timer_fires().unwrap();
    }
    assert!(!run.kernel_mode());
    assert_eq!(run.machine.platform.guest.bases.last(), Some(&user_l4));
    assert_eq!(run.frame.rip, user.rip);
    assert_eq!(run.machine.gs_bases, (USER_GS, KERNEL_GS));
}

#[test]
fn a_user_breakpoint_reaches_the_kernel_with_its_cause_in_the_guests_dr6() {
    use crate::exception_vector::DEBUG;
    let mut run = start(1);
    run.enter_user_program();
    let id = run.current().unwrap();
    let vcpu = &mut run.hypervisor.domains_mut().get_mut(id).unwrap().vcpu;
    vcpu.set_trap(&TrapInfo {
        vector: DEBUG,
        flags: 0,
        cs: FLAT_KERNEL_CS,
        _pad0: 0,
        address: HANDLERS + 1,
    })
    .unwrap();
    vcpu.set_debug_register(0, USER_RIP).unwrap();
    vcpu.set_debug_register(7, 1).unwrap();
    run.machine.dr6 = 0xffff_0ff1; // B0
    run.frame.vector = u64::from(DEBUG);
    run.hypervisor
        .handle_trap(&mut run.cpu, &mut run.frame, &mut run.machine)
        .unwrap();
    assert!(run.kernel_mode());
    assert_eq!(run.frame.rip, HANDLERS + 1);
    let vcpu = &run.hypervisor.domains().get(id).unwrap().vcpu;
    assert_eq!(vcpu.debug_register(6), Ok(0xffff_0ff1));
    assert_eq!(
        run.machine.loaded.last().unwrap().debug,
        Some([USER_RIP, 0, 0, 0, 0xffff_0ff1, 0x401]),
        "the breakpoint and the guest's DR6 were loaded on the way back to the guest"
    );
}
