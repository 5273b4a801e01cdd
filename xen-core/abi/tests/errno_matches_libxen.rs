//! Conformance: [`Errno`] values equal the `XEN_E*` values of `errno.h`.

#[macro_use]
mod common;

use common::Probe;
use xen_abi::errno::Errno;

#[test]
fn errno_values_match_the_xen_header() {
    let mut p = Probe::new(&["xen/errno.h"]);
    // errno.h hides EINTR from guests (it is the hypervisor's internal
    // "preempted" code); reveal it to check its number too.
    p.define("__XEN__");
    constants!(p,
        XEN_EPERM => Errno::EPERM as i32,
        XEN_ENOENT => Errno::ENOENT as i32,
        XEN_ESRCH => Errno::ESRCH as i32,
        XEN_EINTR => Errno::EINTR as i32,
        XEN_EIO => Errno::EIO as i32,
        XEN_ENXIO => Errno::ENXIO as i32,
        XEN_E2BIG => Errno::E2BIG as i32,
        XEN_EAGAIN => Errno::EAGAIN as i32,
        XEN_ENOMEM => Errno::ENOMEM as i32,
        XEN_EACCES => Errno::EACCES as i32,
        XEN_EFAULT => Errno::EFAULT as i32,
        XEN_EBUSY => Errno::EBUSY as i32,
        XEN_EEXIST => Errno::EEXIST as i32,
        XEN_ENODEV => Errno::ENODEV as i32,
        XEN_EINVAL => Errno::EINVAL as i32,
        XEN_ENOSPC => Errno::ENOSPC as i32,
        XEN_ERANGE => Errno::ERANGE as i32,
        XEN_ENOSYS => Errno::ENOSYS as i32,
        XEN_ETIME => Errno::ETIME as i32,
        XEN_EOPNOTSUPP => Errno::EOPNOTSUPP as i32,
    );
    // The return convention: -XEN_E* in RAX.
    for errno in Errno::ALL {
        p.value(format!("-(long long)XEN_{errno:?}"), errno.as_return());
    }
    p.run();
}
