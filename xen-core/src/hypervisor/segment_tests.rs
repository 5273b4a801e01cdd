//! DS, ES, FS and GS across switches of vCPUs over the real loop: what a
//! guest loaded itself comes back, a selector whose descriptor went away
//! comes back null with the failsafe callback told, as on Xen.

use super::tests::{Run, start};
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::domain::data_selectors::DataSelectors;
use crate::mm::Mfn;
use xen_abi::hypercall as nr;
use xen_abi::mmu::DomId;
use xen_abi::sched::SCHEDOP_YIELD;
use xen_abi::trap::{FLAT_KERNEL_CS, FLAT_KERNEL_SS, FLAT_RING3_DS32};

/// A flat DPL-3 data segment, as Linux's `__USER_DS` (entry 5).
const USER_DATA: u64 = 0x00cf_f300_0000_ffff;
/// Linux's `__USER_DS`: GDT entry 5, RPL 3.
const USER_DS: u16 = 0x2b;
/// Where the failsafe callback is.
const FAILSAFE: u64 = 0xffff_ffff_8000_5000;
/// The guest kernel's stack for the failsafe frame.
const STACK: u64 = 0x30_0800;

impl Run {
    /// Yields until domain 1, a domU (dom0's crash would end the run), is
    /// on the CPU.
    fn on_domu(&mut self) -> DomId {
        while self.current() != Some(1) {
            self.sched_op(SCHEDOP_YIELD, &[]).unwrap();
        }
        1
    }

    /// The domain on the CPU yields to the other and the other yields back.
    fn round_trip(&mut self) {
        let me = self.current();
        self.sched_op(SCHEDOP_YIELD, &[]).unwrap();
        assert_ne!(self.current(), me, "the other domain runs");
        assert_eq!(
            self.machine.selectors,
            DataSelectors::default(),
            "with its own selectors"
        );
        self.sched_op(SCHEDOP_YIELD, &[]).unwrap();
        assert_eq!(self.current(), me);
    }

    /// The domain on the CPU gets a GDT of 8 entries with `USER_DATA` in
    /// entry 5; returns its frame.
    fn gdt_with_user_data(&mut self) -> Mfn {
        let id = self.current().unwrap();
        let gdt = self.spare_frame(id);
        self.machine.platform.memory.write_u64(gdt.address() + 5 * 8, USER_DATA);
        assert_eq!(self.set_gdt(&[gdt], 8), 0);
        gdt
    }

    /// The domain on the CPU registers its failsafe callback and a stack.
    fn with_failsafe(&mut self) {
        self.hypercall(nr::SET_CALLBACKS, [0, FAILSAFE, 0, 0, 0]).unwrap();
        assert_eq!(self.frame.rax, 0);
        self.machine.platform.guest.map(STACK & !0xfff, true);
        self.frame.rsp = STACK;
    }
}

#[test]
fn selectors_and_bases_the_guest_loaded_itself_come_back_after_a_switch() {
    let mut run = start(2);
    run.gdt_with_user_data();
    // The guest loads selectors in ring 3 (no trap) and so replaces its FS
    // base behind the hypervisor's back.
    let mine = DataSelectors {
        ds: USER_DS,
        es: FLAT_RING3_DS32,
        fs: USER_DS,
        gs: 0,
    };
    run.machine.selectors = mine;
    run.machine.fs_base = 0x7000_0000;
    run.round_trip();
    assert_eq!(run.machine.selectors, mine);
    assert_eq!(run.machine.fs_base, 0x7000_0000, "the base read back, not the old copy");
    assert!(run.machine.log.is_empty(), "no failsafe: {:?}", run.machine.log);
}

#[test]
fn a_selector_whose_descriptor_went_away_comes_back_null_and_the_failsafe_callback_hears_of_it() {
    let mut run = start(2);
    let gdt = run.gdt_with_user_data();
    run.with_failsafe();
    run.machine.selectors = DataSelectors {
        ds: USER_DS,
        es: USER_DS,
        fs: 0,
        gs: FLAT_RING3_DS32,
    };
    // The guest takes the descriptor away while its DS and ES still name it.
    assert_eq!(run.update_descriptor(gdt.address() + 5 * 8, 0), 0);
    let interrupted = run.frame;
    run.round_trip();
    assert_eq!(
        run.machine.selectors,
        DataSelectors {
            ds: 0,
            es: 0,
            fs: 0,
            gs: FLAT_RING3_DS32
        },
        "what cannot be loaded is null, the rest is loaded"
    );
    assert_eq!(run.frame.rip, FAILSAFE);
    assert_eq!(
        (run.frame.cs, run.frame.ss),
        (u64::from(FLAT_KERNEL_CS), u64::from(FLAT_KERNEL_SS))
    );
    // Xen's frame: RCX, R11, DS, ES, FS, GS, RIP, CS, RFLAGS, RSP, SS.
    assert_eq!(run.frame.rsp, (STACK & !15) - 11 * 8);
    let mut bytes = [0u8; 88];
    run.machine.platform.guest.read(run.frame.rsp, &mut bytes).unwrap();
    let words: std::vec::Vec<u64> = bytes
        .chunks_exact(8)
        .map(|chunk| u64::from_le_bytes(chunk.try_into().unwrap()))
        .collect();
    assert_eq!(words[..2], [interrupted.rcx, interrupted.r11]);
    assert_eq!(
        words[2..6],
        [0x2b, 0x2b, 0, u64::from(FLAT_RING3_DS32)],
        "the selectors as they were"
    );
    assert_eq!(words[6], interrupted.rip);
    assert_eq!(
        words[7] & 0xffff,
        interrupted.cs & !3,
        "kernel mode: RPL 0 in the saved CS"
    );
    assert_eq!(words[9..], [interrupted.rsp, interrupted.ss]);
    assert!(
        run.hypervisor
            .domains()
            .get(run.current().unwrap())
            .unwrap()
            .is_running()
    );
}

#[test]
fn without_a_failsafe_callback_a_domain_whose_selectors_cannot_be_loaded_is_crashed_alone() {
    let mut run = start(2);
    let me = run.on_domu();
    let gdt = run.gdt_with_user_data();
    run.machine.selectors.ds = USER_DS;
    assert_eq!(run.update_descriptor(gdt.address() + 5 * 8, 0), 0);
    run.sched_op(SCHEDOP_YIELD, &[]).unwrap();
    let other = run.current().unwrap();
    run.sched_op(SCHEDOP_YIELD, &[]).unwrap();
    assert_eq!(run.current(), Some(other), "the other domain runs on");
    assert!(
        run.hypervisor
            .domains()
            .get(me)
            .is_none_or(|domain| !domain.is_running())
    );
    assert!(run.machine.logged("no failsafe callback"), "{:?}", run.machine.log);
}

#[test]
fn an_ldt_selector_is_loaded_again_with_its_page_faulted_in_first() {
    use xen_abi::page_table_entry::PRESENT;
    let mut run = start(2);
    let id = run.on_domu();
    // The guest's LDT: one page of its own, mapped read-only, with a data
    // descriptor in entry 0.
    let va = run.frame.rip & !0xfff;
    let page = run.spare_frame(id);
    run.machine.platform.memory.write_u64(page.address(), USER_DATA);
    let flags = xen_abi::mmu::UVMF_INVLPG;
    run.hypercall(nr::UPDATE_VA_MAPPING, [va, page.address() | PRESENT, flags, 0, 0])
        .unwrap();
    assert_eq!(run.frame.rax, 0);
    assert_eq!(run.set_ldt(va, 1), 0);
    // FS names LDT entry 0 (TI set, RPL 3); the page is not shown yet.
    run.machine.selectors.fs = 0x7;
    run.round_trip();
    assert_eq!(run.machine.selectors.fs, 0x7);
    let shown = run.machine.platform.guest.ldts.last().unwrap();
    assert_eq!(
        shown.pages[0],
        Some(page),
        "faulted in before the load, as the CPU's read would"
    );
    // Entry 1 is past the LDT's end: it cannot come back, and there is
    // no failsafe callback to say so.
    run.machine.selectors.gs = 0xf;
    run.sched_op(SCHEDOP_YIELD, &[]).unwrap();
    run.sched_op(SCHEDOP_YIELD, &[]).unwrap();
    assert_ne!(run.current(), Some(id));
    assert!(run.machine.logged("no failsafe callback"));
}
