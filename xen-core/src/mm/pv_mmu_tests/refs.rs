//! General and typed references.

use super::*;
use crate::mm::frame_info::MAX_REFS;
use crate::mm::{PageRef, PageType};
use xen_abi::errno::Errno;

#[test]
fn get_page_counts_and_put_page_returns() {
    let mut m = Machine::new();
    let page = m.table.get_page(SPARE, DOM).unwrap();
    assert_eq!(m.info(SPARE).count(), 2);
    m.check();
    m.table.put_page(page);
    assert_eq!(m.info(SPARE).count(), 1);
    m.check();
}

#[test]
fn get_page_refuses_foreign_free_and_out_of_range_frames() {
    let mut m = Machine::new();
    m.refused(Errno::EINVAL, |m| {
        m.table.get_page(FOREIGN, DOM).map(|page| page.into_mfn())
    });
    m.refused(Errno::EINVAL, |m| {
        m.table.get_page(FREE, DOM).map(|page| page.into_mfn())
    });
    m.refused(Errno::EINVAL, |m| {
        m.table.get_page(Mfn(FRAMES), DOM).map(|page| page.into_mfn())
    });
    m.refused(Errno::EINVAL, |m| {
        m.table.get_page(Mfn(u64::MAX), DOM).map(|page| page.into_mfn())
    });
}

#[test]
fn general_count_overflow_is_refused() {
    let mut m = Machine::new();
    m.table.frame_mut(SPARE).unwrap().count = MAX_REFS;
    let before = m.snapshot();
    assert_eq!(m.table.get_page(SPARE, DOM).map(PageRef::into_mfn), Err(Errno::EINVAL));
    assert!(m.snapshot() == before);
}

#[test]
fn put_without_get_cannot_underflow() {
    let mut m = Machine::new();
    let before = m.snapshot();
    assert_eq!(m.table.put_page_raw(FREE), Err(Errno::EINVAL));
    assert_eq!(m.table.put_page_raw(Mfn(FRAMES)), Err(Errno::EINVAL));
    assert_eq!(m.table.drop_type(SPARE), None);
    assert!(m.snapshot() == before);
    m.check();
}

#[test]
fn the_last_general_reference_frees_the_frame() {
    let mut m = Machine::new();
    let page = m.table.get_page(SPARE, DOM).unwrap();
    let teardown = m.table.relinquish_all(&mut m.memory, DOM, &mut |_| ());
    assert_eq!(teardown.still_referenced, 1);
    assert_eq!(m.info(SPARE).owner(), Some(DOM));
    // A dying domain's frames take no new references.
    assert_eq!(m.table.get_page(SPARE, DOM).map(PageRef::into_mfn), Err(Errno::EINVAL));
    m.table.put_page(page);
    assert!(m.info(SPARE).is_free());
    m.check();
}

#[test]
#[should_panic(expected = "dropped without put_page")]
fn dropping_a_handle_instead_of_putting_it_is_caught_in_tests() {
    let mut m = Machine::new();
    let _leaked = m.table.get_page(SPARE, DOM).unwrap();
}

#[test]
fn writable_type_is_taken_and_returned() {
    let mut m = Machine::new();
    let typed = m
        .table
        .get_page_and_type(&mut m.memory, SPARE, DOM, PageType::Writable)
        .unwrap();
    let info = m.info(SPARE);
    assert_eq!(
        (info.page_type(), info.type_count(), info.count()),
        (PageType::Writable, 1, 2)
    );
    assert!(info.is_validated());
    m.check();
    m.table.put_page_and_type(&mut m.memory, typed);
    assert_eq!(
        m.info(SPARE),
        FrameInfo {
            count: 1,
            owner: Some(DOM),
            allocated: true,
            ..FrameInfo::FREE
        }
    );
    m.check();
}

#[test]
fn the_type_changes_only_at_type_count_zero() {
    let mut m = Machine::new();
    let writable = m
        .table
        .get_page_and_type(&mut m.memory, SPARE, DOM, PageType::Writable)
        .unwrap();
    m.refused(Errno::EINVAL, |m| {
        m.table
            .get_page_and_type(&mut m.memory, SPARE, DOM, PageType::L1)
            .map(|typed| typed.mfn())
    });
    m.table.put_page_and_type(&mut m.memory, writable);
    let l1 = m
        .table
        .get_page_and_type(&mut m.memory, SPARE, DOM, PageType::L1)
        .unwrap();
    assert_eq!(m.info(SPARE).page_type(), PageType::L1);
    assert!(m.table.take_flush_request(), "a new page table asks for a TLB flush");
    m.check();
    m.refused(Errno::EINVAL, |m| {
        m.table
            .get_page_and_type(&mut m.memory, SPARE, DOM, PageType::Writable)
            .map(|typed| typed.mfn())
    });
    m.table.put_page_and_type(&mut m.memory, l1);
    m.check();
}

#[test]
fn the_general_reference_comes_back_when_the_type_is_refused() {
    let mut m = Machine::new();
    // A present TSS descriptor: no guest may have one.
    m.write(SPARE, 3, 0x0000_8900_0000_0067);
    let page = m.table.get_page(SPARE, DOM).unwrap();
    let (page, error) = m
        .table
        .get_page_type(&mut m.memory, page, PageType::SegDesc)
        .unwrap_err();
    assert_eq!(error, Errno::EINVAL);
    let (page, error) = m.table.get_page_type(&mut m.memory, page, PageType::None).unwrap_err();
    assert_eq!(error, Errno::EINVAL);
    m.table.put_page(page);
    m.check();
}

#[test]
fn type_count_overflow_is_refused() {
    let mut m = Machine::new();
    let typed = m
        .table
        .get_page_and_type(&mut m.memory, SPARE, DOM, PageType::Writable)
        .unwrap();
    m.table.frame_mut(SPARE).unwrap().type_count = MAX_REFS;
    let before = m.snapshot();
    let result = m.table.get_page_and_type(&mut m.memory, SPARE, DOM, PageType::Writable);
    assert_eq!(result.map(|typed| typed.mfn()), Err(Errno::EINVAL));
    assert!(m.snapshot() == before);
    m.table.frame_mut(SPARE).unwrap().type_count = 1;
    m.table.put_page_and_type(&mut m.memory, typed);
    m.check();
}

#[test]
fn a_typed_l1_reference_validates_and_the_last_put_devalidates() {
    let mut m = Machine::new();
    m.write(SPARE, 0, entry(DATA[0], PRESENT | RW));
    m.write(SPARE, 1, entry(DATA[1], PRESENT));
    let typed = m
        .table
        .get_page_and_type(&mut m.memory, SPARE, DOM, PageType::L1)
        .unwrap();
    assert!(m.info(SPARE).is_validated());
    assert_eq!(m.info(DATA[0]).page_type(), PageType::Writable);
    assert_eq!(m.info(DATA[1]).count(), 2);
    m.check();
    m.table.put_page_and_type(&mut m.memory, typed);
    for mfn in [SPARE, DATA[0], DATA[1]] {
        assert_eq!(m.info(mfn).count(), 1, "{mfn}");
        assert_eq!(m.info(mfn).type_count(), 0, "{mfn}");
    }
    m.check();
}

#[test]
fn a_descriptor_page_is_checked_fixed_up_and_never_writable_at_the_same_time() {
    let mut m = Machine::new();
    let ring0_code = 0x00af_9b00_0000_ffff;
    m.write(SPARE, 1, ring0_code);
    let gdt = m
        .table
        .get_page_and_type(&mut m.memory, SPARE, DOM, PageType::SegDesc)
        .unwrap();
    assert_eq!(m.read(SPARE, 1), ring0_code | 3 << 45, "DPL raised to 3 in place");
    let refused = m.table.get_page_and_type(&mut m.memory, SPARE, DOM, PageType::Writable);
    assert_eq!(
        refused.map(|typed| typed.mfn()),
        Err(Errno::EINVAL),
        "no writable mapping of a GDT frame"
    );
    m.table.put_page_and_type(&mut m.memory, gdt);
    let writable = m
        .table
        .get_page_and_type(&mut m.memory, SPARE, DOM, PageType::Writable)
        .unwrap();
    let refused = m.table.get_page_and_type(&mut m.memory, SPARE, DOM, PageType::SegDesc);
    assert_eq!(
        refused.map(|typed| typed.mfn()),
        Err(Errno::EINVAL),
        "no GDT frame mapped writable"
    );
    m.table.put_page_and_type(&mut m.memory, writable);
    m.check();
}
