//! Direct writes to a guest's own L1 tables over the real loop, with the
//! page tables the builder made.

use super::tests::{Run, start};
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::exception_vector::PAGE_FAULT;
use crate::mm::Mfn;
use xen_abi::hypercall as nr;
use xen_abi::mmu::{VMASST_CMD_ENABLE, VMASST_TYPE_WRITABLE_PAGETABLES};
use xen_abi::page_table_entry::{ACCESSED, ADDRESS_MASK, PRESENT, RW};

/// Where the faulting instructions are.
const CODE: u64 = 0x60_0000;

/// An L1 of the running domain's, an entry of it that maps an ordinary
/// page (the domain's 4 MiB are all mapped), and the virtual address the
/// guest maps that L1 at (read-only).
fn l1_slot(run: &Run) -> (Mfn, u64, u64) {
    let memory = &run.machine.platform.memory;
    let frames = run.hypervisor.frames.as_ref().unwrap();
    let base = run.kernel_base();
    let entries = |table: Mfn| (0..512u64).map(move |index| (index, table.address() + index * 8));
    let mut tables = std::vec::Vec::new();
    for (i4, at4) in entries(base).filter(|(index, _)| *index < 256 || *index >= 272) {
        let e4 = memory.read_u64(at4);
        if e4 & PRESENT == 0 {
            continue;
        }
        for (i3, at3) in entries(Mfn::containing(e4 & ADDRESS_MASK)) {
            let e3 = memory.read_u64(at3);
            if e3 & PRESENT == 0 {
                continue;
            }
            for (i2, at2) in entries(Mfn::containing(e3 & ADDRESS_MASK)) {
                let e2 = memory.read_u64(at2);
                if e2 & PRESENT != 0 {
                    let va = (i4 << 39 | i3 << 30 | i2 << 21) as i64;
                    let va = ((va << 16) >> 16) as u64; // sign-extend
                    tables.push((Mfn::containing(e2 & ADDRESS_MASK), va));
                }
            }
        }
    }
    // Where each L1 is mapped: the entry of some L1 naming it.
    for &(l1, _) in &tables {
        for &(other, va) in &tables {
            for (index, at) in entries(other) {
                if memory.read_u64(at) & ADDRESS_MASK == l1.address() {
                    let ordinary = (0..512).rev().find(|&slot| {
                        let entry = memory.read_u64(l1.address() + slot * 8);
                        entry & PRESENT != 0 && frames.page_table_level(Mfn::containing(entry & ADDRESS_MASK)).is_none()
                    });
                    if let Some(slot) = ordinary {
                        return (l1, slot, va + index * 4096);
                    }
                }
            }
        }
    }
    panic!("no L1 mapped by the guest with an ordinary page in it");
}

impl Run {
    /// The guest kernel runs `code`, writing to `address`: the write fault
    /// arrives as it would from the CPU.
    fn write_fault(&mut self, code: &[u8], address: u64) {
        self.machine.platform.guest.write(CODE, code).unwrap();
        self.frame.rip = CODE;
        self.machine.cr2 = address;
        self.frame.vector = u64::from(PAGE_FAULT);
        self.frame.error_code = 0b011;
        self.hypervisor
            .handle_trap(&mut self.cpu, &mut self.frame, &mut self.machine)
            .unwrap();
    }

    fn enable_writable_page_tables(&mut self) {
        let args = [
            u64::from(VMASST_CMD_ENABLE),
            u64::from(VMASST_TYPE_WRITABLE_PAGETABLES),
            0,
            0,
            0,
        ];
        self.hypercall(nr::VM_ASSIST, args).unwrap();
        assert_eq!(self.frame.rax, 0);
    }
}

/// `mov %rax, (%rdi)`, `xchg %rax, (%rdi)`, `lock cmpxchg %rdx, (%rdi)`.
const MOV: [u8; 3] = [0x48, 0x89, 0x07];
const XCHG: [u8; 3] = [0x48, 0x87, 0x07];
const CMPXCHG: [u8; 5] = [0xf0, 0x48, 0x0f, 0xb1, 0x17];

#[test]
fn a_direct_write_to_an_own_l1_is_validated_and_applied() {
    let mut run = start(1);
    run.machine.platform.guest.map(CODE, true);
    let id = run.current().unwrap();
    let (l1, slot, mapped_at) = l1_slot(&run);
    let data = run.spare_frame(id);
    let entry = data.address() | PRESENT | RW | ACCESSED;
    run.frame.rax = entry;
    run.enable_writable_page_tables();
    run.frame.rax = entry;
    run.write_fault(&MOV, mapped_at + slot * 8);
    assert_eq!(run.frame.rip, CODE + 3, "stepped over the mov");
    // Written as mmu_update writes it (with the bits Xen adds for a PV guest).
    let kept = ADDRESS_MASK | PRESENT | RW;
    assert_eq!(
        run.machine.platform.memory.read_u64(l1.address() + slot * 8) & kept,
        entry & kept
    );
    let info = *run.hypervisor.frames.as_ref().unwrap().frame(data).unwrap();
    assert_eq!(info.type_count(), 1, "the new mapping holds a writable reference");

    // xchg takes it away again and hands the old entry back.
    run.frame.rax = 0;
    run.write_fault(&XCHG, mapped_at + slot * 8);
    assert_eq!(run.frame.rax & ADDRESS_MASK, data.address());
    assert_eq!(run.machine.platform.memory.read_u64(l1.address() + slot * 8), 0);
    let info = *run.hypervisor.frames.as_ref().unwrap().frame(data).unwrap();
    assert_eq!(info.type_count(), 0, "and its reference went with it");

    // cmpxchg writes only over what it expects.
    run.frame.rax = 0x1234_5000;
    run.frame.rdx = entry;
    run.write_fault(&CMPXCHG, mapped_at + slot * 8);
    assert_eq!(
        (run.frame.rax, run.frame.rflags & (1 << 6)),
        (0, 0),
        "mismatch: RAX gets 0, ZF clear"
    );
    assert_eq!(run.machine.platform.memory.read_u64(l1.address() + slot * 8), 0);
    run.frame.rax = 0;
    run.write_fault(&CMPXCHG, mapped_at + slot * 8);
    assert_ne!(run.frame.rflags & (1 << 6), 0, "match: ZF set");
    assert_ne!(run.machine.platform.memory.read_u64(l1.address() + slot * 8), 0);
    let frames = run.hypervisor.frames.as_ref().unwrap();
    assert_eq!(frames.check_invariants(&run.machine.platform.memory), Ok(()));
}

#[test]
fn a_write_the_same_mmu_update_would_refuse_is_the_guests_page_fault() {
    let mut run = start(2);
    run.machine.platform.guest.map(CODE, true);
    let id = run.current().unwrap();
    let (l1, slot, mapped_at) = l1_slot(&run);
    let other = if id == 0 { 1 } else { 0 };
    let theirs = run.spare_frame(other);
    run.enable_writable_page_tables();
    // Without a #PF handler a refused write crashes the domain: give it one.
    run.handle_in_guest(PAGE_FAULT, 0xffff_ffff_8000_6000);
    let before = run.machine.platform.memory.read_u64(l1.address() + slot * 8);
    for target in [theirs.address() | PRESENT, l1.address() | PRESENT | RW] {
        run.frame.rsp = 0x30_0800;
        run.frame.rax = target;
        run.write_fault(&MOV, mapped_at + slot * 8);
        assert_eq!(
            run.frame.rip, 0xffff_ffff_8000_6000,
            "the guest's #PF handler: {target:#x}"
        );
        let after = run.machine.platform.memory.read_u64(l1.address() + slot * 8);
        assert_eq!(after, before, "nothing written");
    }
}
