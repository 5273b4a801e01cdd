//! Error numbers of `errno.h`: why a hypercall failed.
//!
//! Xen's numbers are x86 Linux's. A hypercall returns zero or a count on success
//! and the negated number on failure, so RAX holds e.g. -22 for [`Errno::EINVAL`].
//! Grant operations additionally report `GNTST_*` codes in their own status
//! fields ([`crate::grant_table`]).

/// A Xen error number (the subset of `errno.h` this project returns or expects).
#[allow(clippy::upper_case_acronyms)] // the names are the C names
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Errno {
    /// Operation not permitted.
    EPERM = 1,
    /// No such entry.
    ENOENT = 2,
    /// No such domain or process.
    ESRCH = 3,
    /// Interrupted. Xen keeps it internal (a preempted hypercall continues
    /// instead) and never returns it to a guest.
    EINTR = 4,
    /// Input/output error.
    EIO = 5,
    /// No such device or address.
    ENXIO = 6,
    /// Argument list or count too large.
    E2BIG = 7,
    /// Try again later.
    EAGAIN = 11,
    /// Out of memory.
    ENOMEM = 12,
    /// Permission denied.
    EACCES = 13,
    /// Bad guest address.
    EFAULT = 14,
    /// Resource busy.
    EBUSY = 16,
    /// Already exists.
    EEXIST = 17,
    /// No such device.
    ENODEV = 19,
    /// Invalid argument.
    EINVAL = 22,
    /// No space left (e.g. no free event-channel port).
    ENOSPC = 28,
    /// Result out of range.
    ERANGE = 34,
    /// Hypercall or sub-operation not implemented.
    ENOSYS = 38,
    /// Timer expired (a one-shot deadline already in the past).
    ETIME = 62,
    /// Restart the operation. Xen keeps it internal, as we do: a preempted
    /// hypercall is continued (re-run) instead, and no guest ever sees it.
    ERESTART = 85,
    /// Operation not supported.
    EOPNOTSUPP = 95,
}

impl Errno {
    /// Every variant, in numeric order.
    pub const ALL: [Errno; 21] = [
        Errno::EPERM,
        Errno::ENOENT,
        Errno::ESRCH,
        Errno::EINTR,
        Errno::EIO,
        Errno::ENXIO,
        Errno::E2BIG,
        Errno::EAGAIN,
        Errno::ENOMEM,
        Errno::EACCES,
        Errno::EFAULT,
        Errno::EBUSY,
        Errno::EEXIST,
        Errno::ENODEV,
        Errno::EINVAL,
        Errno::ENOSPC,
        Errno::ERANGE,
        Errno::ENOSYS,
        Errno::ETIME,
        Errno::ERESTART,
        Errno::EOPNOTSUPP,
    ];

    /// The hypercall return value reporting this error: its number, negated.
    pub const fn as_return(self) -> i64 {
        -(self as i64)
    }

    /// The error a hypercall return value reports, or `None` for a success value
    /// or a number outside this set.
    pub const fn from_return(ret: i64) -> Option<Self> {
        let mut i = 0;
        while i < Self::ALL.len() {
            if Self::ALL[i].as_return() == ret {
                return Some(Self::ALL[i]);
            }
            i += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Errno;

    #[test]
    fn all_is_in_strictly_increasing_numeric_order() {
        assert!(Errno::ALL.windows(2).all(|w| (w[0] as i32) < (w[1] as i32)));
    }

    #[test]
    fn return_values_are_the_negated_numbers() {
        assert_eq!(Errno::EPERM.as_return(), -1);
        assert_eq!(Errno::EINVAL.as_return(), -22);
        assert_eq!(Errno::EOPNOTSUPP.as_return(), -95);
    }

    #[test]
    fn every_error_survives_a_round_trip_through_its_return_value() {
        for errno in Errno::ALL {
            assert_eq!(Errno::from_return(errno.as_return()), Some(errno));
        }
    }

    #[test]
    fn success_values_and_unknown_numbers_are_not_errors() {
        for ret in [0, 1, 4096, 22, -8, -96, i64::MIN] {
            assert_eq!(Errno::from_return(ret), None, "{ret}");
        }
    }
}
