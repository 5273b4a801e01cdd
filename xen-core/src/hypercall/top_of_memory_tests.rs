//! Guest buffers that end at the very top of the address space: every
//! address a handler forms from a guest pointer plus an offset is checked,
//! and one past the top is `-EFAULT` (a wrap would be a panic in a debug
//! build and a pointer to address 0 in a release build).

use super::Completion;
use super::tests::{setup, value};
use xen_abi::errno::Errno;
use xen_abi::grant_table::{GNTST_OKAY, GNTTABOP_COPY, GnttabCopy};
use xen_abi::hypercall as nr;
use xen_abi::version::{XENVER_CAPABILITIES, XENVER_EXTRAVERSION};
use zerocopy::{FromBytes, IntoBytes};

/// The last page of the 64-bit address space: guest-owned (the top of the
/// canonical upper half, where PV kernels live).
const TOP_PAGE: u64 = 0xFFFF_FFFF_FFFF_F000;
/// One past the last address, as a 128-bit sum sees it.
const END: u128 = 1 << 64;

/// The guest address `bytes` below the end of the address space.
fn below_end(bytes: u64) -> u64 {
    (END - u128::from(bytes)) as u64
}

#[test]
fn a_version_string_running_past_the_top_is_efault_and_writes_nothing() {
    let mut s = setup(true);
    s.platform.guest.map(TOP_PAGE, true);
    // 16 bytes that end on the last byte fit.
    let extraversion = below_end(16);
    assert_eq!(
        s.call(nr::XEN_VERSION, [u64::from(XENVER_EXTRAVERSION), extraversion, 0, 0, 0]),
        Completion::Value(0)
    );
    assert_eq!(&s.get(extraversion, 9), b"-xen-core");
    // The 1024-byte capabilities string 64 bytes below the top does not.
    s.put(below_end(64), &[0xaa; 64]);
    assert_eq!(
        s.call(
            nr::XEN_VERSION,
            [u64::from(XENVER_CAPABILITIES), below_end(64), 0, 0, 0]
        ),
        value(Errno::EFAULT)
    );
    assert_eq!(
        s.get(below_end(64), 64),
        [0xaa; 64],
        "the whole range is refused before any byte is written, as in Xen"
    );
}

#[test]
fn a_console_write_that_would_continue_past_the_top_is_efault() {
    let mut s = setup(true);
    s.platform.guest.map(TOP_PAGE, true);
    // Exactly up to the last byte: written in full.
    s.put(below_end(4), b"end\n");
    assert_eq!(s.call(nr::CONSOLE_IO, [0, 4, below_end(4), 0, 0]), Completion::Value(0));
    assert_eq!(s.platform.console, b"end\n");
    // 4 KiB from 2 KiB below the top: the first 2 KiB go out, and the
    // continuation would start past the top.
    s.platform.console.clear();
    assert_eq!(
        s.call(nr::CONSOLE_IO, [0, 4096, below_end(2048), 0, 0]),
        value(Errno::EFAULT)
    );
    assert_eq!(
        s.platform.console.len(),
        2048,
        "what was copied before stays written, as in Xen"
    );
}

#[test]
fn a_grant_batch_that_would_continue_past_the_top_is_efault() {
    let mut s = setup(true);
    s.platform.guest.map(TOP_PAGE, true);
    let size = size_of::<GnttabCopy>() as u64;
    // 65 copies, the first 64 ending on the last byte: the batch runs 64
    // per call, and the 65th would lie past the top.
    let list = below_end(64 * size);
    let op = GnttabCopy {
        status: GNTST_OKAY,
        ..GnttabCopy::default()
    };
    for index in 0..64 {
        s.put(list + index * size, op.as_bytes());
    }
    assert_eq!(
        s.call(nr::GRANT_TABLE_OP, [u64::from(GNTTABOP_COPY), list, 65, 0, 0]),
        value(Errno::EFAULT)
    );
    // Each of the 64 ran and has its own status (frame 0 is nobody's).
    let last = GnttabCopy::read_from_bytes(&s.get(list + 63 * size, size as usize)).unwrap();
    assert_ne!(last.status, GNTST_OKAY);
}
