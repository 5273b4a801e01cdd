//! L1 Terminal Fault (CVE-2018-3620): on affected Intel CPUs a page walk
//! that ends at a non-present entry may still read the L1 data cache at the
//! address in that entry, speculatively. A guest that writes its own
//! non-present entries could so read any memory the cache holds.
//!
//! As Xen does for PV guests on such CPUs, a non-present entry a guest asks
//! for must name no memory: its address bits (as far as the CPU's physical
//! address width reaches) are zero, or at or above an address where no RAM
//! is; and at L2–L4 it has no superpage bit, which would make the address
//! name a large page. Xen crashes a guest that breaks this (when it cannot
//! shadow it); we refuse the entry with `-EPERM`. Linux keeps to the rule by
//! itself: it inverts the address bits of swap and PROT_NONE entries. The
//! check is made on every CPU, affected or not: the hypervisor does not yet
//! look at which CPU it runs on.

use super::TableLevel;
use super::mfn::PAGE_SIZE;
use super::pte_rules::{ADDRESS_MASK, PSE};
use xen_abi::errno::Errno;

/// Which non-present entries are safe on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L1tfPolicy {
    /// The address bits the CPU can use.
    address_mask: u64,
    /// Lowest non-zero address that names no RAM.
    safe_address: u64,
}

impl L1tfPolicy {
    /// The policy for a machine with `frames` frames of RAM whose CPU has
    /// `physical_address_bits` (CPUID 0x80000008; at most 52): the upper
    /// half of the physical address space is safe, as is anything above the
    /// RAM rounded up to a power of two, whichever is higher.
    pub fn new(frames: u64, physical_address_bits: u8) -> Self {
        let bits = u32::from(physical_address_bits.clamp(13, 52));
        let ram_top = frames
            .saturating_mul(PAGE_SIZE)
            .checked_next_power_of_two()
            .unwrap_or(u64::MAX);
        L1tfPolicy {
            address_mask: ADDRESS_MASK & ((1 << bits) - 1),
            safe_address: ram_top.max(1 << (bits - 1)),
        }
    }

    /// Refuses (-EPERM) a non-present `entry` of a table of `level` whose
    /// address could name memory.
    pub const fn check_not_present(&self, entry: u64, level: TableLevel) -> Result<(), Errno> {
        let address = entry & self.address_mask;
        let superpage = !matches!(level, TableLevel::L1) && entry & PSE != 0;
        if superpage || (address != 0 && address < self.safe_address) {
            Err(Errno::EPERM)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_of_no_ram_and_no_superpage_bits_are_safe() {
        // 1 GiB of RAM, a CPU with 40 address bits: safe from 2^39 up.
        let policy = L1tfPolicy::new(1 << 18, 40);
        let ok = |entry, level| policy.check_not_present(entry, level).is_ok();
        assert!(ok(0, TableLevel::L1), "an empty entry");
        assert!(ok(0x1ff, TableLevel::L1), "flag bits other than PRESENT name nothing");
        assert!(!ok(0x1000, TableLevel::L1), "the second frame of RAM");
        assert!(!ok(0x3fff_f000, TableLevel::L1), "the last frame of RAM");
        assert!(!ok(0x40_0000_0000, TableLevel::L1), "above RAM but in the lower half");
        assert!(ok(0x80_0000_0000, TableLevel::L1), "the upper half");
        // Bits beyond the CPU's width are not looked at by it: 2^40 + a
        // frame of RAM is that frame.
        assert!(!ok((1 << 40) | 0x5000, TableLevel::L1));
        // What Linux writes for a swap entry: the address bits inverted.
        assert!(ok(!0x5000 & ADDRESS_MASK, TableLevel::L1));
        assert!(!ok(PSE, TableLevel::L2), "a non-present superpage");
        assert!(ok(PSE, TableLevel::L1), "bit 7 of an L1 entry is PAT");
    }

    #[test]
    fn ram_above_half_the_address_space_moves_the_line_up() {
        let policy = L1tfPolicy::new(3 << 18, 32);
        assert!(policy.check_not_present(0x9000_0000, TableLevel::L1).is_err());
        assert!(policy.check_not_present(0xffff_f000, TableLevel::L1).is_err());
    }
}
