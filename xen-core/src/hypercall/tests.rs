//! Hypercall dispatch over a fake platform.

use super::*;
use crate::arch::fake::FakePlatform;
use crate::domain::pv_domain::DomainState;
use crate::mm::pte_rules::HYPERVISOR_L4_SLOTS;
use crate::mm::{FrameInfo, FrameTable, Mfn};
use std::vec::Vec;
use xen_abi::errno::Errno;
use xen_abi::hypercall as nr;
use xen_abi::multicall::MulticallEntry;
use xen_abi::sched::{SCHEDOP_SHUTDOWN, SHUTDOWN_POWEROFF, SchedShutdown};
use xen_abi::trap::{FLAT_KERNEL_CS, FLAT_KERNEL_SS, IretContext, TrapInfo};
use zerocopy::IntoBytes;

/// The guest kernel's selectors as frames hold them, and its CS as a guest
/// writes it in an `iret` frame (RPL 0 for kernel mode).
const KERNEL_CS: u64 = FLAT_KERNEL_CS as u64;
const KERNEL_SS: u64 = FLAT_KERNEL_SS as u64;
const KERNEL_CS_RPL0: u64 = KERNEL_CS & !3;

/// A writable guest page for arguments.
const DATA: u64 = 0x10_0000;
/// A read-only guest page.
const READ_ONLY: u64 = 0x20_0000;
/// The guest's stack page.
const STACK: u64 = 0x30_0000;

/// A domain calling through the hypercall table on a fake machine.
pub(super) struct Setup {
    pub domain: PvDomain,
    pub frames: FrameTable<'static>,
    pub frame: TrapFrame,
    pub platform: FakePlatform,
}

pub(super) fn setup(privileged: bool) -> Setup {
    let mut platform = FakePlatform::default();
    for page in 0..4 {
        platform.guest.map(DATA + page * 4096, true);
    }
    platform.guest.map(READ_ONLY, false);
    platform.guest.map(STACK, true);
    let domain = PvDomain::new(if privileged { 0 } else { 1 }, "test", Mfn(0x80), 1024);
    let frame = TrapFrame {
        cs: KERNEL_CS,
        ss: KERNEL_SS,
        rflags: 0x202,
        rip: 0x4000,
        rsp: STACK + 0x800,
        ..Default::default()
    };
    // No frame is anybody's: these tests do not touch page tables.
    let storage = std::vec![FrameInfo::FREE; 256].leak();
    Setup {
        domain,
        frames: FrameTable::new(storage, [0; HYPERVISOR_L4_SLOTS]),
        frame,
        platform,
    }
}

impl Setup {
    pub fn call(&mut self, number: u32, args: [u64; 5]) -> Completion {
        let mut context = HypercallContext {
            domain: &mut self.domain,
            others: Others::none(),
            frames: &mut self.frames,
            frame: &mut self.frame,
            platform: &mut self.platform,
            in_multicall: false,
            reschedule: false,
        };
        dispatch(&mut context, u64::from(number), args)
    }

    pub fn put(&mut self, address: u64, bytes: &[u8]) {
        use crate::arch::GuestMemory;
        self.platform.guest.write(address, bytes).unwrap();
    }

    pub fn get(&mut self, address: u64, length: usize) -> Vec<u8> {
        use crate::arch::GuestMemory;
        let mut out = std::vec![0; length];
        self.platform.guest.read(address, &mut out).unwrap();
        out
    }
}

pub(super) fn value(errno: Errno) -> Completion {
    Completion::Value(errno.as_return())
}

#[test]
fn unknown_and_unimplemented_hypercalls_are_enosys() {
    let mut s = setup(true);
    assert_eq!(
        s.call(nr::PLATFORM_OP, [0; 5]),
        value(Errno::ENOSYS),
        "not implemented yet"
    );
    assert_eq!(s.call(47, [0; 5]), value(Errno::ENOSYS));
    let mut context = HypercallContext {
        domain: &mut s.domain,
        others: Others::none(),
        frames: &mut s.frames,
        frame: &mut s.frame,
        platform: &mut s.platform,
        in_multicall: false,
        reschedule: false,
    };
    assert_eq!(dispatch(&mut context, u64::MAX, [0; 5]), value(Errno::ENOSYS));
}

#[test]
fn console_writes_reach_the_console_and_bad_pointers_are_efault() {
    let mut s = setup(true);
    s.put(DATA, b"hello\n");
    assert_eq!(s.call(nr::CONSOLE_IO, [0, 6, DATA, 0, 0]), Completion::Value(0));
    assert_eq!(s.platform.console, b"hello\n");
    assert_eq!(s.call(nr::CONSOLE_IO, [0, 6, 0xdead_0000, 0, 0]), value(Errno::EFAULT));
    assert_eq!(
        s.call(nr::CONSOLE_IO, [0, 6, 0xFFFF_82D0_8000_0000, 0, 0]),
        value(Errno::EFAULT),
        "hypervisor memory"
    );
    assert_eq!(s.call(nr::CONSOLE_IO, [7, 0, 0, 0, 0]), value(Errno::ENOSYS));
}

#[test]
fn unprivileged_console_output_is_line_buffered_with_the_domain_prefix() {
    let mut s = setup(false);
    s.put(DATA, b"one\ntw");
    s.call(nr::CONSOLE_IO, [0, 6, DATA, 0, 0]);
    assert_eq!(s.platform.console, b"(d1) one\n");
    s.put(DATA, b"o\n");
    s.call(nr::CONSOLE_IO, [0, 2, DATA, 0, 0]);
    assert_eq!(s.platform.console, b"(d1) one\n(d1) two\n");
}

#[test]
fn a_huge_console_write_preempts_itself_with_a_continuation() {
    let mut s = setup(true);
    let count = 1 << 40;
    match s.call(nr::CONSOLE_IO, [0, count, DATA, 0, 0]) {
        // The first 2 KiB are written, then the call continues.
        Completion::Continue([0, left, next, 0, 0]) => {
            assert_eq!(left, count - 2 * 1024);
            assert_eq!(next, DATA + 2 * 1024);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.platform.console.len(), 2 * 1024);
}

#[test]
fn continuations_rewind_rip_over_the_syscall() {
    let mut s = setup(true);
    s.frame.rax = u64::from(nr::CONSOLE_IO);
    s.frame.rsi = 1 << 20;
    s.frame.rdx = DATA;
    assert!(
        handle_hypercall(
            &mut s.domain,
            Others::none(),
            &mut s.frames,
            &mut s.frame,
            &mut s.platform
        )
        .resume_changed,
        "the resume point moved"
    );
    assert_eq!(s.frame.rip, 0x4000 - 2);
    assert_eq!(s.frame.rsi, (1 << 20) - 2 * 1024);
    assert_eq!(s.frame.rax, u64::from(nr::CONSOLE_IO), "RAX still names the hypercall");
}

#[test]
fn console_reads_are_for_the_control_domain_only() {
    let mut s = setup(true);
    s.platform.input = b"ls\n".to_vec();
    assert_eq!(s.call(nr::CONSOLE_IO, [1, 16, DATA, 0, 0]), Completion::Value(3));
    assert_eq!(s.get(DATA, 3), b"ls\n");
    let mut u = setup(false);
    assert_eq!(u.call(nr::CONSOLE_IO, [1, 16, DATA, 0, 0]), value(Errno::EPERM));
}

#[test]
fn shutdown_records_the_reason_and_refuses_unknown_ones() {
    let mut s = setup(true);
    s.put(DATA, SchedShutdown { reason: 9 }.as_bytes());
    assert_eq!(
        s.call(nr::SCHED_OP, [u64::from(SCHEDOP_SHUTDOWN), DATA, 0, 0, 0]),
        value(Errno::EINVAL)
    );
    assert!(s.domain.is_running());
    s.put(
        DATA,
        SchedShutdown {
            reason: SHUTDOWN_POWEROFF,
        }
        .as_bytes(),
    );
    assert_eq!(
        s.call(nr::SCHED_OP, [u64::from(SCHEDOP_SHUTDOWN), DATA, 0, 0, 0]),
        Completion::Value(0)
    );
    assert_eq!(s.domain.state(), DomainState::Shutdown(SHUTDOWN_POWEROFF));
    assert_eq!(
        s.call(nr::SCHED_OP, [2, 0x10, 0, 0, 0]),
        value(Errno::EFAULT),
        "unmapped argument"
    );
}

#[test]
fn trap_tables_install_until_the_zero_entry_and_refuse_non_canonical_handlers() {
    let mut s = setup(true);
    let entries = [
        TrapInfo {
            vector: 0,
            flags: 0,
            cs: FLAT_KERNEL_CS,
            _pad0: 0,
            address: 0xffff_ffff_8000_1000,
        },
        TrapInfo {
            vector: 3,
            flags: 3 | 4,
            cs: FLAT_KERNEL_CS,
            _pad0: 0,
            address: 0xffff_ffff_8000_2000,
        },
        TrapInfo {
            vector: 0,
            flags: 0,
            cs: 0,
            _pad0: 0,
            address: 0,
        },
    ];
    s.put(DATA, entries.as_bytes());
    assert_eq!(s.call(nr::SET_TRAP_TABLE, [DATA, 0, 0, 0, 0]), Completion::Value(0));
    assert_eq!(s.domain.vcpu.trap(0).address, 0xffff_ffff_8000_1000);
    assert_eq!(s.domain.vcpu.trap(3).dpl, 3);
    assert!(s.domain.vcpu.trap(3).mask_events);
    let bad = [TrapInfo {
        vector: 6,
        flags: 0,
        cs: FLAT_KERNEL_CS,
        _pad0: 0,
        address: 0x8000_0000_0000_0000,
    }];
    s.put(DATA, bad.as_bytes());
    assert_eq!(s.call(nr::SET_TRAP_TABLE, [DATA, 0, 0, 0, 0]), value(Errno::EINVAL));
    assert_eq!(s.call(nr::SET_TRAP_TABLE, [0, 0, 0, 0, 0]), Completion::Value(0));
    assert_eq!(s.domain.vcpu.trap(0).address, 0, "NULL clears the table");
}

#[test]
fn an_endless_trap_table_is_processed_in_bounded_steps() {
    let mut s = setup(true);
    let entry = TrapInfo {
        vector: 1,
        flags: 0,
        cs: FLAT_KERNEL_CS,
        _pad0: 0,
        address: 0x1000,
    };
    for index in 0..256u64 {
        s.put(DATA + index * 16, entry.as_bytes());
    }
    assert_eq!(
        s.call(nr::SET_TRAP_TABLE, [DATA, 0, 0, 0, 0]),
        Completion::Continue([DATA + 64 * 16, 0, 0, 0, 0])
    );
}

#[test]
fn iret_restores_the_context_and_the_virtual_if() {
    let mut s = setup(true);
    let context = IretContext {
        rax: 7,
        r11: 11,
        rcx: 12,
        flags: 0,
        rip: 0xffff_ffff_8000_5000,
        cs: KERNEL_CS_RPL0,
        rflags: 0x3002, // IOPL 3 and IF clear: both must not survive
        rsp: STACK + 0x900,
        ss: KERNEL_SS,
    };
    s.put(s.frame.rsp, context.as_bytes());
    assert_eq!(s.call(nr::IRET, [0; 5]), Completion::FrameReplaced);
    assert_eq!((s.frame.rax, s.frame.r11, s.frame.rcx), (7, 11, 12));
    assert_eq!(
        (s.frame.rip, s.frame.cs, s.frame.ss, s.frame.rsp),
        (0xffff_ffff_8000_5000, KERNEL_CS, KERNEL_SS, STACK + 0x900)
    );
    assert_eq!(s.frame.rflags & 0x3200, 0x200, "IF forced on, IOPL stripped");
    assert!(
        s.domain.events_masked(&s.platform.memory),
        "IF was clear: events masked"
    );
    assert!(s.domain.is_running());
}

#[test]
fn iret_to_a_non_canonical_address_or_user_mode_crashes_the_domain() {
    for (rip, cs) in [(0x8000_0000_0000_0000u64, KERNEL_CS_RPL0), (0x1000, KERNEL_CS)] {
        let mut s = setup(true);
        let context = IretContext {
            rip,
            cs,
            rflags: 0x202,
            rsp: STACK,
            ss: KERNEL_SS,
            ..Default::default()
        };
        s.put(s.frame.rsp, context.as_bytes());
        s.call(nr::IRET, [0; 5]);
        assert_eq!(s.domain.state(), DomainState::Crashed, "rip {rip:#x} cs {cs:#x}");
    }
}

#[test]
fn multicall_runs_each_entry_and_refuses_iret_and_nesting() {
    let mut s = setup(true);
    s.put(DATA + 0x800, b"hi");
    let entries = [
        MulticallEntry {
            op: u64::from(nr::CONSOLE_IO),
            result: 0,
            args: [0, 2, DATA + 0x800, 0, 0, 0],
        },
        MulticallEntry {
            op: u64::from(nr::IRET),
            result: 0,
            args: [0; 6],
        },
        MulticallEntry {
            op: u64::from(nr::MULTICALL),
            result: 0,
            args: [DATA, 1, 0, 0, 0, 0],
        },
        MulticallEntry {
            op: 99,
            result: 0,
            args: [0; 6],
        },
        MulticallEntry {
            op: u64::from(nr::XEN_VERSION),
            result: 0,
            args: [0; 6],
        },
    ];
    s.put(DATA, entries.as_bytes());
    assert_eq!(s.call(nr::MULTICALL, [DATA, 5, 0, 0, 0]), Completion::Value(0));
    let results: Vec<i64> = (0..5)
        .map(|i| i64::from_le_bytes(s.get(DATA + i * 64 + 8, 8).try_into().unwrap()))
        .collect();
    assert_eq!(
        results,
        [
            0,
            Errno::EINVAL.as_return(),
            Errno::EINVAL.as_return(),
            Errno::ENOSYS.as_return(),
            (4 << 16) | 17
        ]
    );
    assert_eq!(s.platform.console, b"hi");
}

#[test]
fn a_multicall_list_in_read_only_or_unmapped_memory_is_efault() {
    let mut s = setup(true);
    assert_eq!(
        s.call(nr::MULTICALL, [READ_ONLY, 1, 0, 0, 0]),
        value(Errno::EFAULT),
        "result cannot be stored"
    );
    assert_eq!(s.call(nr::MULTICALL, [0xdead_0000, 1, 0, 0, 0]), value(Errno::EFAULT));
    // An endless batch over four mapped pages of zeroed entries (op 0,
    // set_trap_table(NULL)): preempted every 16 entries, then EFAULT where the
    // mapping ends. Work per call stays bounded.
    let mut args = [DATA, u64::MAX, 0, 0, 0];
    let mut calls = 0;
    let last = loop {
        calls += 1;
        match s.call(nr::MULTICALL, args) {
            Completion::Continue(next) => args = next,
            other => break other,
        }
    };
    assert_eq!(last, value(Errno::EFAULT));
    assert_eq!(calls, 17, "4 pages of 64 entries, 16 per call, then the fault");
}

#[test]
fn set_iopl_is_for_every_domain_and_bounded() {
    let mut s = setup(true);
    s.put(DATA, &1u32.to_le_bytes());
    assert_eq!(s.call(nr::PHYSDEV_OP, [6, DATA, 0, 0, 0]), Completion::Value(0));
    assert_eq!(s.domain.vcpu.iopl(), 1);
    s.put(DATA, &4u32.to_le_bytes());
    assert_eq!(s.call(nr::PHYSDEV_OP, [6, DATA, 0, 0, 0]), value(Errno::EINVAL));
    // A domU too, as on Xen: the level is virtual, its ports reach nothing.
    let mut u = setup(false);
    u.put(DATA, &3u32.to_le_bytes());
    assert_eq!(u.call(nr::PHYSDEV_OP, [6, DATA, 0, 0, 0]), Completion::Value(0));
    assert_eq!(u.domain.vcpu.iopl(), 3);
}

#[test]
fn segment_bases_must_be_canonical() {
    let mut s = setup(true);
    assert_eq!(s.call(nr::SET_SEGMENT_BASE, [0, 0x7000, 0, 0, 0]), Completion::Value(0));
    assert_eq!(s.domain.vcpu.loadable().fs_base, 0x7000);
    assert!(s.domain.vcpu.take_loadable_state().is_some(), "marked for loading");
    assert!(s.domain.vcpu.take_loadable_state().is_none(), "taken once");
    assert_eq!(
        s.call(nr::SET_SEGMENT_BASE, [2, 0x8000_0000_0000_0000, 0, 0, 0]),
        value(Errno::EINVAL)
    );
}

#[test]
fn xen_version_reports_the_interface_and_features() {
    let mut s = setup(true);
    assert_eq!(
        s.call(nr::XEN_VERSION, [0, 0, 0, 0, 0]),
        Completion::Value((4 << 16) | 17)
    );
    s.put(DATA, &[0u8; 8]);
    assert_eq!(s.call(nr::XEN_VERSION, [6, DATA, 0, 0, 0]), Completion::Value(0));
    // mmu_pt_update_preserve_ad, highmem_assist, gnttab_map_avail_bits,
    // memory_op_vnode_supported, direct_mapped (0x220e0, Xen 4.17's); dom0.
    let domu_features: u32 = 1 << 5 | 1 << 6 | 1 << 7 | 1 << 13 | 1 << 17;
    assert_eq!(
        s.get(DATA + 4, 4),
        (domu_features | 1 << 11).to_le_bytes(),
        "dom0 gets XENFEAT_dom0 too"
    );
    assert_eq!(s.call(nr::VM_ASSIST, [0, 3, 0, 0, 0]), Completion::Value(0));
    assert_eq!(s.call(nr::XEN_VERSION, [6, DATA, 0, 0, 0]), Completion::Value(0));
    assert_eq!(
        s.get(DATA + 4, 4),
        (domu_features | 1 << 11 | 1 << 4).to_le_bytes(),
        "pae_pgdir_above_4gb once pae_extended_cr3 is on"
    );
    let mut u = setup(false);
    u.put(DATA, &[0u8; 8]);
    assert_eq!(u.call(nr::XEN_VERSION, [6, DATA, 0, 0, 0]), Completion::Value(0));
    assert_eq!(u.get(DATA + 4, 4), domu_features.to_le_bytes());
    assert_eq!(s.call(nr::XEN_VERSION, [1, DATA, 0, 0, 0]), Completion::Value(0));
    assert_eq!(&s.get(DATA, 9), b"-xen-core");
    assert_eq!(s.call(nr::XEN_VERSION, [1, READ_ONLY, 0, 0, 0]), value(Errno::EFAULT));
}
