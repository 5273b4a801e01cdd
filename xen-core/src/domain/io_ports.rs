//! I/O ports no guest reaches, even with I/O privilege.
//!
//! dom0 drives devices through ports after `physdev_op(set_iopl)`, but the
//! devices the hypervisor itself relies on stay out of reach, as in Xen: the
//! interrupt controllers (reprogramming the PIC would turn a timer tick into
//! a fake double fault), the timer, reset and A20 controls, PCI
//! configuration space (a door to DMA) and the hypervisor's console UART.
//! Like Xen, writes to them are dropped and reads return all-ones.

use core::ops::RangeInclusive;

/// The hypervisor's ports, inclusive ranges.
const HYPERVISOR_PORTS: [RangeInclusive<u16>; 9] = [
    0x20..=0x21,   // master PIC
    0xa0..=0xa1,   // slave PIC
    0x4d0..=0x4d1, // ELCR (PIC trigger modes)
    0x40..=0x43,   // PIT
    0x61..=0x61,   // PIT gate / NMI status
    0x92..=0x92,   // fast A20 and reset
    0xcf8..=0xcff, // PCI configuration mechanism 1, and reset control 0xcf9
    0x3f8..=0x3ff, // COM1: the hypervisor's console
    0x70..=0x71,   // CMOS/RTC index (also gates NMIs)
];

/// Whether a guest may access `size` bytes at `port`: none of them may touch
/// a hypervisor port.
pub fn guest_may_access(port: u16, size: u8) -> bool {
    let last = u32::from(port) + u32::from(size.max(1)) - 1;
    HYPERVISOR_PORTS
        .iter()
        .all(|range| last < u32::from(*range.start()) || u32::from(port) > u32::from(*range.end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupt_controllers_timer_reset_pci_and_console_are_off_limits() {
        for port in [
            0x20, 0x21, 0xa0, 0xa1, 0x40, 0x43, 0x61, 0x92, 0xcf8, 0xcf9, 0xcfc, 0x3f8, 0x3fd, 0x4d0, 0x70,
        ] {
            assert!(!guest_may_access(port, 1), "{port:#x}");
        }
    }

    #[test]
    fn ordinary_device_ports_and_the_debug_exit_port_are_allowed() {
        for port in [0xf4, 0x80, 0x60, 0x1f0, 0x3f7, 0x2f8, 0xcf7] {
            assert!(guest_may_access(port, 1), "{port:#x}");
        }
    }

    #[test]
    fn a_wide_access_straddling_a_forbidden_port_is_refused() {
        assert!(!guest_may_access(0x1e, 4), "0x1e..0x21 reaches the PIC");
        assert!(!guest_may_access(0xcf6, 4), "reaches PCI config");
        assert!(guest_may_access(0xcf4, 4));
        assert!(guest_may_access(0xffff, 1));
        assert!(guest_may_access(0xfffe, 2), "no overflow at the top");
    }
}
