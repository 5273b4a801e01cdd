//! A vCPU's debug registers, as Xen's `set_debugreg` keeps them: DR0–DR3
//! (breakpoint addresses, never in the hypervisor's range), DR6 (status,
//! sticky: the guest resets it) and DR7 (control). Reached through
//! `set_debugreg`/`get_debugreg` and through emulated `mov %drN`; loaded
//! into the CPU only while DR7 enables a breakpoint.

use xen_abi::errno::Errno;
use xen_abi::mmu::HYPERVISOR_VIRT_END;

/// DR6's fixed bits: set where the architecture reads ones.
pub const DR6_DEFAULT: u64 = 0xffff_0ff0;
/// DR7's value with nothing enabled (bit 10 reads as one).
pub const DR7_DEFAULT: u64 = 0x400;
/// DR6 bit 12 reads as zero.
const DR6_ZERO: u64 = 1 << 12;
/// DR7 bits that read as zero: 11 (RTM), 12, 14 and 15.
const DR7_ZERO: u64 = 1 << 11 | 1 << 12 | 1 << 14 | 1 << 15;
/// DR7 GD: #DB on any access to the debug registers, which Xen refuses.
const DR7_GD: u64 = 1 << 13;
/// DR7's local and global enable bits of the four breakpoints.
pub const DR7_ENABLES: u64 = 0xff;

/// The debug registers a vCPU has set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DebugRegisters {
    address: [u64; 4],
    dr6: u64,
    dr7: u64,
}

impl Default for DebugRegisters {
    fn default() -> Self {
        DebugRegisters {
            address: [0; 4],
            dr6: DR6_DEFAULT,
            dr7: DR7_DEFAULT,
        }
    }
}

impl DebugRegisters {
    /// Sets register `register` to `value` with Xen's checks:
    /// -EPERM for a breakpoint on the hypervisor's addresses, DR7's GD or
    /// an I/O breakpoint (this hypervisor offers no CR4.DE), -EINVAL for
    /// the upper half of DR6 or DR7 set, -ENODEV for no such register.
    /// DR4 and DR5 are DR6 and DR7 (no CR4.DE).
    pub fn set(&mut self, register: u64, value: u64) -> Result<(), Errno> {
        match register {
            0..=3 => {
                if !breakpoint_address_ok(value) {
                    return Err(Errno::EPERM);
                }
                self.address[register as usize] = value;
            }
            4 | 6 => {
                if value >> 32 != 0 {
                    return Err(Errno::EINVAL);
                }
                self.dr6 = (value & !DR6_ZERO) | DR6_DEFAULT;
            }
            5 | 7 => {
                if value >> 32 != 0 {
                    return Err(Errno::EINVAL);
                }
                let value = (value & !DR7_ZERO) | DR7_DEFAULT;
                if value & DR7_GD != 0 {
                    return Err(Errno::EPERM);
                }
                let io_breakpoint = (0..4).any(|index| (value >> (16 + 4 * index)) & 3 == 2);
                if value & DR7_ENABLES != 0 && io_breakpoint {
                    return Err(Errno::EPERM);
                }
                self.dr7 = value;
            }
            _ => return Err(Errno::ENODEV),
        }
        Ok(())
    }

    /// Register `register`'s value; -ENODEV for no such register.
    pub fn get(&self, register: u64) -> Result<u64, Errno> {
        match register {
            0..=3 => Ok(self.address[register as usize]),
            4 | 6 => Ok(self.dr6),
            5 | 7 => Ok(self.dr7),
            _ => Err(Errno::ENODEV),
        }
    }

    /// Whether DR7 enables a breakpoint: only then are they loaded.
    pub fn active(&self) -> bool {
        self.dr7 & DR7_ENABLES != 0
    }

    /// DR0–DR3, DR6 and DR7, as the CPU is to hold them.
    pub fn values(&self) -> [u64; 6] {
        let [a, b, c, d] = self.address;
        [a, b, c, d, self.dr6, self.dr7]
    }

    /// Merges a #DB's status (the CPU's DR6) into the guest's DR6: the
    /// condition bits it raised are added, none are taken away (the guest
    /// clears DR6 itself, as on Xen).
    pub fn note_debug_status(&mut self, status: u64) {
        self.dr6 |= status & !DR6_DEFAULT & 0xffff_ffff;
    }
}

/// Whether a breakpoint may watch `address`: guest space, below the
/// canonical hole or above the hypervisor's range (Xen's `__addr_ok`).
fn breakpoint_address_ok(address: u64) -> bool {
    !(0x0000_8000_0000_0000..HYPERVISOR_VIRT_END).contains(&address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakpoints_on_the_hypervisor_or_the_hole_are_eperm() {
        let mut debug = DebugRegisters::default();
        assert_eq!(debug.set(0, 0x40_0000), Ok(()));
        assert_eq!(debug.set(3, HYPERVISOR_VIRT_END), Ok(()));
        for address in [0xffff_8300_0000_0000, 0x0000_8000_0000_0000, HYPERVISOR_VIRT_END - 1] {
            assert_eq!(debug.set(1, address), Err(Errno::EPERM), "{address:#x}");
        }
        assert_eq!(debug.get(1), Ok(0), "unchanged");
    }

    #[test]
    fn dr6_and_dr7_get_their_fixed_bits_and_refuse_gd_io_and_high_bits() {
        let mut debug = DebugRegisters::default();
        assert_eq!(debug.set(6, 0), Ok(()));
        assert_eq!(debug.get(6), Ok(DR6_DEFAULT));
        assert_eq!(debug.set(7, 1 << 0 | 1 << 12), Ok(()));
        assert_eq!(debug.get(7), Ok(0x401), "bit 12 cleared, bit 10 set");
        assert!(debug.active());
        assert_eq!(debug.set(7, DR7_GD), Err(Errno::EPERM));
        assert_eq!(debug.set(7, 1 | 2 << 16), Err(Errno::EPERM), "an I/O breakpoint");
        assert_eq!(debug.set(6, 1 << 32), Err(Errno::EINVAL));
        assert_eq!(debug.set(8, 0), Err(Errno::ENODEV));
        assert_eq!(debug.get(8), Err(Errno::ENODEV));
        assert_eq!(debug.set(5, 0), Ok(()), "DR5 is DR7");
        assert!(!debug.active());
    }

    #[test]
    fn a_debug_status_adds_its_conditions_to_the_sticky_dr6() {
        let mut debug = DebugRegisters::default();
        debug.note_debug_status(DR6_DEFAULT | 1);
        debug.note_debug_status(DR6_DEFAULT | 1 << 14);
        assert_eq!(debug.get(6), Ok(DR6_DEFAULT | 1 | 1 << 14));
    }
}
