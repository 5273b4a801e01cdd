//! The user address space over the page-table manager's fake hypervisor.

use super::*;
use crate::page_table::tests::{MFN_OFFSET, PT_PFN, manager};
use xen_abi::mmu::{MMUEXT_NEW_USER_BASEPTR, MMUEXT_PIN_L4_TABLE};

const KERNEL_ROOT: u64 = PT_PFN + MFN_OFFSET;

#[test]
fn a_user_space_is_a_pinned_l4_whose_slot_0_the_kernel_shares() {
    let mut tables = manager();
    let space = UserSpace::new(&mut tables, KERNEL_ROOT).unwrap();
    let pin = tables.backend().ops.last().copied().unwrap();
    assert_eq!((pin.cmd, pin.arg1), (MMUEXT_PIN_L4_TABLE, space.root));
    let page = tables.allocate_frame().unwrap();
    space.map(&mut tables, 0x40_0000, page.mfn, false).unwrap();
    let slot = tables.entry(space.root, 0).unwrap();
    assert_ne!(slot & PRESENT, 0, "the program's L3 is in slot 0");
    assert_eq!(tables.entry(KERNEL_ROOT, 0).unwrap(), slot, "and in the kernel's");
    space.activate(&mut tables).unwrap();
    let op = tables.backend().ops.last().copied().unwrap();
    assert_eq!((op.cmd, op.arg1), (MMUEXT_NEW_USER_BASEPTR, space.root));
}

#[test]
fn only_page_aligned_program_addresses_are_mapped() {
    let mut tables = manager();
    let space = UserSpace::new(&mut tables, KERNEL_ROOT).unwrap();
    let page = tables.allocate_frame().unwrap();
    for va in [USER_TOP, 0xffff_ffff_8000_0000, 0x40_0008] {
        assert_eq!(
            space.map(&mut tables, va, page.mfn, true),
            Err(PageTableError::BadAddress(va))
        );
    }
}

#[test]
fn a_kernel_using_slot_0_gets_no_user_space() {
    let mut tables = manager();
    let first = UserSpace::new(&mut tables, KERNEL_ROOT).unwrap();
    let page = tables.allocate_frame().unwrap();
    first.map(&mut tables, 0, page.mfn, true).unwrap();
    assert!(
        UserSpace::new(&mut tables, KERNEL_ROOT).is_err(),
        "slot 0 of the kernel's L4 is taken now"
    );
}

#[test]
fn copies_from_user_stop_at_the_top_of_user_space() {
    let mut buffer = [0u8; 16];
    assert!(copy_from_user(USER_TOP - 16, &mut buffer).is_ok());
    assert_eq!(
        copy_from_user(USER_TOP - 8, &mut buffer),
        Err(PageTableError::BadAddress(USER_TOP - 8))
    );
    assert!(copy_from_user(u64::MAX - 4, &mut buffer).is_err());
}

#[test]
fn a_frame_with_rpl_3_in_its_cs_came_from_user_mode() {
    let mut frame = TrapFrame {
        cs: 0xe033,
        ..TrapFrame::default()
    };
    assert!(from_user(&frame));
    frame.cs = 0xe030;
    assert!(!from_user(&frame));
}
