//! Errors hypercalls return.

use core::fmt;
use xen_abi::errno::Errno;

/// A hypercall's negative return value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XenError {
    /// The raw return value (negative).
    pub code: i64,
}

impl XenError {
    /// The errno, if the value is one Xen defines.
    pub fn errno(self) -> Option<Errno> {
        Errno::from_return(self.code)
    }

    /// `Ok(value)` for a non-negative return, the error otherwise.
    pub fn check(value: i64) -> Result<i64, XenError> {
        if value < 0 {
            Err(XenError { code: value })
        } else {
            Ok(value)
        }
    }
}

impl fmt::Display for XenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errno() {
            Some(errno) => write!(f, "{errno:?} ({})", self.code),
            None => write!(f, "error {}", self.code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_returns_are_errors_with_their_errno() {
        assert_eq!(XenError::check(5), Ok(5));
        let error = XenError::check(-38).unwrap_err();
        assert_eq!(error.errno(), Some(Errno::ENOSYS));
        assert_eq!(XenError::check(-1000).unwrap_err().errno(), None);
    }
}
