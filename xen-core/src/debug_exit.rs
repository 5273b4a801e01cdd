//! The verdict codes written to QEMU's isa-debug-exit device.
//!
//! The hypervisor writes one of these to I/O port [`DEBUG_EXIT_PORT`] to end a
//! QEMU run; QEMU exits with status `(code << 1) | 1`. The device can never produce
//! status 0, which is what a triple fault gives with `-no-reboot`, so a runner can
//! tell a deliberate verdict from a crash of the machine itself.

/// I/O port of the isa-debug-exit device (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// A deliberate end of a QEMU run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum DebugExit {
    /// Everything the run set out to do succeeded.
    Success = 0x10,
    /// A crash report, a panic or a fatal boot error.
    Failure = 0x11,
    /// dom0 crashed (or was crashed for breaking the rules); the hypervisor
    /// itself is fine.
    GuestCrashed = 0x12,
}

impl DebugExit {
    /// The value written to the device.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The exit status QEMU reports for this verdict.
    pub const fn qemu_status(self) -> i32 {
        ((self as i32) << 1) | 1
    }

    /// The verdict a QEMU exit status stands for, if it is one of ours.
    pub const fn from_qemu_status(status: i32) -> Option<Self> {
        match status {
            s if s == Self::Success.qemu_status() => Some(Self::Success),
            s if s == Self::Failure.qemu_status() => Some(Self::Failure),
            s if s == Self::GuestCrashed.qemu_status() => Some(Self::GuestCrashed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_never_collide_with_a_triple_fault() {
        assert_eq!(DebugExit::Success.qemu_status(), 33);
        assert_eq!(DebugExit::Failure.qemu_status(), 35);
        assert_eq!(DebugExit::GuestCrashed.qemu_status(), 37);
        for verdict in [DebugExit::Success, DebugExit::Failure, DebugExit::GuestCrashed] {
            assert_eq!(DebugExit::from_qemu_status(verdict.qemu_status()), Some(verdict));
        }
        assert_eq!(DebugExit::from_qemu_status(0), None);
        assert_eq!(DebugExit::from_qemu_status(1), None);
    }
}
