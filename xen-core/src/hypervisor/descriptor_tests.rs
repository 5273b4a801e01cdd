//! `set_gdt` and `update_descriptor` over the real loop, with frames the
//! builder gave a domain: descriptor pages are checked, typed, kept while
//! in use and reach the CPU on the way back to the guest.

use super::tests::{ARG, Run, start};
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::mm::{Mfn, PageType};
use xen_abi::errno::Errno;
use xen_abi::hypercall as nr;

/// A flat 64-bit code segment, DPL 0: the guest gets it at DPL 3.
const RING0_CODE: u64 = 0x00af_9b00_0000_ffff;
/// DPL 3.
const DPL3: u64 = 3 << 45;
/// A present 64-bit TSS: no guest may have one.
const TSS: u64 = 0x0000_8900_0000_0067;

impl Run {
    pub(super) fn set_gdt(&mut self, frames: &[Mfn], entries: u64) -> i64 {
        let list: std::vec::Vec<u8> = frames.iter().flat_map(|frame| frame.0.to_le_bytes()).collect();
        self.machine.platform.guest.write(ARG, &list).unwrap();
        self.hypercall(nr::SET_GDT, [ARG, entries, 0, 0, 0]).unwrap();
        self.frame.rax as i64
    }

    pub(super) fn update_descriptor(&mut self, address: u64, descriptor: u64) -> i64 {
        self.hypercall(nr::UPDATE_DESCRIPTOR, [address, descriptor, 0, 0, 0])
            .unwrap();
        self.frame.rax as i64
    }

    fn page_type(&self, frame: Mfn) -> (PageType, u32) {
        let info = self.hypervisor.frames.as_ref().unwrap().frame(frame).unwrap();
        (info.page_type(), info.type_count())
    }
}

#[test]
fn a_gdt_is_checked_fixed_typed_and_loaded() {
    let mut run = start(1);
    let id = run.current().unwrap();
    let gdt = run.spare_frame(id);
    run.machine.platform.memory.write_u64(gdt.address() + 8, RING0_CODE);
    assert_eq!(run.set_gdt(&[gdt], 16), 0);
    let memory = &run.machine.platform.memory;
    assert_eq!(
        memory.read_u64(gdt.address() + 8),
        RING0_CODE | DPL3,
        "DPL raised in place"
    );
    assert_eq!(run.page_type(gdt), (PageType::SegDesc, 1));
    let shown = run
        .machine
        .platform
        .guest
        .gdts
        .last()
        .expect("the CPU shows it at once");
    assert_eq!(shown[0], Some(gdt));
    assert!(shown[1..].iter().all(Option::is_none));

    // Replaced by an empty GDT, the frame is an ordinary page again.
    assert_eq!(run.set_gdt(&[], 0), 0);
    assert_eq!(run.page_type(gdt).1, 0);
    assert_eq!(run.machine.platform.guest.gdts.last(), Some(&[None; 14]));
}

#[test]
fn what_cannot_be_a_gdt_is_refused_and_the_old_one_stays() {
    let mut run = start(2);
    let id = run.current().unwrap();
    let good = run.spare_frame(id);
    assert_eq!(run.set_gdt(&[good], 512), 0);
    assert_eq!(
        run.set_gdt(&[good], 7169),
        Errno::EINVAL.as_return(),
        "into Xen's entries"
    );
    let bad = run.spare_frame(id);
    run.machine.platform.memory.write_u64(bad.address() + 64, TSS);
    assert_eq!(
        run.set_gdt(&[good, bad], 1024),
        Errno::EINVAL.as_return(),
        "a TSS descriptor"
    );
    let base = run.kernel_base();
    assert_eq!(run.set_gdt(&[base], 1), Errno::EINVAL.as_return(), "a page table");
    let other = if id == 0 { 1 } else { 0 };
    let theirs = run.spare_frame(other);
    assert_eq!(
        run.set_gdt(&[theirs], 1),
        Errno::EINVAL.as_return(),
        "another domain's frame"
    );
    assert_eq!(run.page_type(good), (PageType::SegDesc, 1), "the old GDT stays");
    assert_eq!(run.page_type(bad).1, 0, "nothing held on a refused frame");
    run.hypercall(nr::SET_GDT, [0xdead_0000, 1, 0, 0, 0]).unwrap();
    assert_eq!(run.frame.rax as i64, Errno::EFAULT.as_return(), "an unreadable list");
}

#[test]
fn update_descriptor_writes_one_checked_descriptor_even_into_a_gdt_in_use() {
    let mut run = start(1);
    let id = run.current().unwrap();
    let gdt = run.spare_frame(id);
    assert_eq!(run.set_gdt(&[gdt], 512), 0);
    assert_eq!(run.update_descriptor(gdt.address() + 16, RING0_CODE), 0);
    let memory = &run.machine.platform.memory;
    assert_eq!(memory.read_u64(gdt.address() + 16), RING0_CODE | DPL3);
    assert_eq!(run.page_type(gdt), (PageType::SegDesc, 1), "still the GDT");
    assert_eq!(
        run.update_descriptor(gdt.address() + 24, TSS),
        Errno::EINVAL.as_return()
    );
    assert_eq!(
        run.update_descriptor(gdt.address() + 4, 0),
        Errno::EINVAL.as_return(),
        "misaligned"
    );
    let base = run.kernel_base();
    assert_eq!(
        run.update_descriptor(base.address(), 0),
        Errno::EINVAL.as_return(),
        "a page table"
    );
    let page = run.spare_frame(id);
    assert_eq!(
        run.update_descriptor(page.address() + 8, RING0_CODE),
        0,
        "an ordinary page"
    );
    assert_eq!(run.page_type(page).1, 0, "no type kept");
}

#[test]
fn the_cpu_shows_each_vcpus_gdt_and_none_when_idle_or_after_its_death() {
    let mut run = super::tests::start_domains(&[1, 2]);
    let first = run.current().unwrap();
    let gdt = run.spare_frame(first);
    assert_eq!(run.set_gdt(&[gdt], 1), 0);
    run.sched_op(xen_abi::sched::SCHEDOP_YIELD, &[]).unwrap();
    assert_ne!(run.current(), Some(first));
    assert_eq!(
        run.machine.platform.guest.gdts.last(),
        Some(&[None; 14]),
        "the other has none"
    );
    run.sched_op(xen_abi::sched::SCHEDOP_YIELD, &[]).unwrap();
    assert_eq!(run.current(), Some(first));
    assert_eq!(run.machine.platform.guest.gdts.last().unwrap()[0], Some(gdt));
    run.shutdown(xen_abi::sched::SHUTDOWN_CRASH).unwrap();
    assert_eq!(run.machine.platform.guest.gdts.last(), Some(&[None; 14]));
    // Its frames go back over the following passes.
    for _ in 0..4 {
        run.timer_fires().unwrap();
    }
    assert_eq!(run.page_type(gdt).1, 0, "no descriptor-page reference left");
}

impl Run {
    /// The CPU reads the LDT's descriptor at byte `offset`, through the
    /// descriptor window, and faults there.
    fn ldt_read_fault(&mut self, offset: u64) {
        self.machine.cr2 = crate::mm::layout::LDT_WINDOW + offset;
        self.frame.vector = u64::from(crate::exception_vector::PAGE_FAULT);
        self.frame.error_code = 0;
        self.hypervisor
            .handle_trap(&mut self.cpu, &mut self.frame, &mut self.machine)
            .unwrap();
    }

    pub(super) fn set_ldt(&mut self, linear: u64, entries: u64) -> i64 {
        let op = xen_abi::mmu::MmuextOp {
            cmd: xen_abi::mmu::MMUEXT_SET_LDT,
            _pad0: 0,
            arg1: linear,
            arg2: entries,
        };
        self.machine
            .platform
            .guest
            .write(ARG, zerocopy::IntoBytes::as_bytes(&op))
            .unwrap();
        let args = [ARG, 1, 0, u64::from(xen_abi::mmu::DOMID_SELF), 0];
        self.hypercall(nr::MMUEXT_OP, args).unwrap();
        self.frame.rax as i64
    }
}

#[test]
fn set_ldt_checks_its_arguments_and_a_page_that_cannot_be_one_is_the_guests_fault() {
    use crate::exception_vector::PAGE_FAULT;
    let mut run = start(1);
    let id = run.current().unwrap();
    // Where the guest's kernel is: mapped writable by the builder.
    let kernel_page = run.frame.rip & !0xfff;
    assert_eq!(run.set_ldt(0x40_0800, 1), Errno::EINVAL.as_return(), "not page-aligned");
    assert_eq!(
        run.set_ldt(0xffff_8300_0000_0000, 1),
        Errno::EINVAL.as_return(),
        "the hypervisor's"
    );
    assert_eq!(
        run.set_ldt(0x40_0000, 8193),
        Errno::EINVAL.as_return(),
        "more than 8192"
    );
    assert_eq!(run.set_ldt(0xdead_beef, 0), 0, "no entries: the base is not looked at");
    assert_eq!(run.set_ldt(kernel_page, 512), 0);
    let shown = *run.machine.platform.guest.ldts.last().expect("shown at once");
    assert_eq!((shown.entries, shown.pages[0]), (512, None), "nothing faulted in yet");

    // The CPU reads the LDT's first page: a writable page cannot be one,
    // so the guest takes the #PF, at its LDT's address.
    run.handle_in_guest(PAGE_FAULT, 0xffff_ffff_8000_6000);
    run.ldt_read_fault(8);
    assert_eq!(run.frame.rip, 0xffff_ffff_8000_6000);
    let vcpu = &run.hypervisor.domains().get(id).unwrap().vcpu;
    assert_eq!(vcpu.cr2, kernel_page, "the fault is at the LDT's own address");
    assert_eq!(vcpu.ldt.view().pages[0], None);
    let frames = run.hypervisor.frames.as_ref().unwrap();
    assert_eq!(frames.check_invariants(&run.machine.platform.memory), Ok(()));
}

#[test]
fn an_ldt_page_is_faulted_in_from_the_guests_own_read_only_mapping() {
    use xen_abi::page_table_entry::PRESENT;
    let mut run = start(1);
    let id = run.current().unwrap();
    // A page of the guest's mapped read-only to a frame holding a ring-0
    // data descriptor in entry 1.
    let va = run.frame.rip & !0xfff;
    let page = run.spare_frame(id);
    run.machine
        .platform
        .memory
        .write_u64(page.address() + 8, 0x00cf_9300_0000_ffff);
    let flags = xen_abi::mmu::UVMF_INVLPG;
    run.hypercall(nr::UPDATE_VA_MAPPING, [va, page.address() | PRESENT, flags, 0, 0])
        .unwrap();
    assert_eq!(run.frame.rax, 0);
    assert_eq!(run.set_ldt(va, 2), 0);
    // The CPU reads entry 1 through the window: the page is faulted in.
    let rip = run.frame.rip;
    run.ldt_read_fault(8);
    assert_eq!(run.frame.rip, rip, "the instruction runs again");
    let shown = *run.machine.platform.guest.ldts.last().unwrap();
    assert_eq!((shown.entries, shown.pages[0]), (2, Some(page)));
    assert_eq!(run.page_type(page), (PageType::SegDesc, 1));
    assert_eq!(
        run.machine.platform.memory.read_u64(page.address() + 8),
        0x00cf_9300_0000_ffff | DPL3,
        "checked and fixed up"
    );
    // Taking the LDT away stops showing the page, then drops it.
    assert_eq!(run.set_ldt(0, 0), 0);
    assert_eq!(run.machine.platform.guest.ldts.last().unwrap().pages[0], None);
    assert_eq!(run.page_type(page).1, 0);
}

#[test]
fn a_return_to_the_guests_own_code_and_stack_segments_is_checked_against_its_gdt() {
    use crate::trap_frame::TrapFrame;
    let mut run = start(1);
    let id = run.current().unwrap();
    let gdt = run.spare_frame(id);
    let memory = &mut run.machine.platform.memory;
    // Linux's layout: 5 user data, 6 user 64-bit code, 7 a 32-bit code
    // segment limited to 8 KiB, 8 read-only data.
    memory.write_u64(gdt.address() + 5 * 8, 0x00cf_f300_0000_ffff);
    memory.write_u64(gdt.address() + 6 * 8, 0x00af_fb00_0000_ffff);
    memory.write_u64(gdt.address() + 7 * 8, 0x0040_fb00_0000_1fff);
    memory.write_u64(gdt.address() + 8 * 8, 0x00cf_f100_0000_ffff);
    assert_eq!(run.set_gdt(&[gdt], 9), 0);
    let domain = run.hypervisor.domains().get(id).unwrap();
    let memory = &run.machine.platform.memory;
    let safe = |cs: u64, ss: u64, rip: u64| {
        let frame = TrapFrame {
            cs,
            ss,
            rip,
            rflags: 0x202,
            ..TrapFrame::default()
        };
        domain.resume_is_safe(memory, &frame)
    };
    assert!(safe(0x33, 0x2b, 0x40_1000), "Linux's __USER_CS and __USER_DS");
    assert!(safe(0x33, 0xe02b, 0x40_1000), "with Xen's flat stack");
    assert!(!safe(0x33, 0x2b, 0x8000_0000_0000), "non-canonical RIP");
    assert!(!safe(0x2b, 0x2b, 0x40_1000), "data as code");
    assert!(!safe(0x33, 0x43, 0x40_1000), "read-only data as stack");
    assert!(!safe(0x37, 0x2b, 0x40_1000), "an LDT selector");
    assert!(!safe(0x4b, 0x2b, 0x40_1000), "past the GDT's entries");
    assert!(!safe(0x30, 0x2b, 0x40_1000), "RPL 0");
    assert!(safe(0x3b, 0x2b, 0x1ff0), "32-bit code within its limit");
    assert!(!safe(0x3b, 0x2b, 0x2000), "32-bit code past its limit");
}

#[test]
fn loading_a_user_gs_selector_gives_the_user_gs_its_descriptors_base() {
    let mut run = start(1);
    let id = run.current().unwrap();
    let gdt = run.spare_frame(id);
    // Entry 5: DPL-3 data based at 0x1234_5000.
    let memory = &mut run.machine.platform.memory;
    memory.write_u64(gdt.address() + 5 * 8, 0x12cf_f334_5000_ffff);
    assert_eq!(run.set_gdt(&[gdt], 6), 0);
    let gs_user = |run: &mut Run, selector: u64| {
        run.hypercall(nr::SET_SEGMENT_BASE, [3, selector, 0, 0, 0]).unwrap();
        assert_eq!(run.frame.rax, 0, "always 0, as on Xen");
        let id = run.current().unwrap();
        run.hypervisor.domains().get(id).unwrap().vcpu.loadable().gs_base_user
    };
    assert_eq!(gs_user(&mut run, 0x2b), 0x1234_5000);
    assert_eq!(gs_user(&mut run, 0), 0, "the null selector");
    assert_eq!(gs_user(&mut run, 0x2b), 0x1234_5000);
    assert_eq!(gs_user(&mut run, 0x4b), 0, "a bogus one loads as null");
}
