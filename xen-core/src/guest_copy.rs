//! Copying to and from guest virtual memory, with every check in one place.
//!
//! A guest pointer may point anywhere. Before the arch layer touches it, the
//! whole range must lie in guest-owned address space: canonical, no
//! wrap-around, and not one byte in the hypervisor's L4 slots 256–271 (which
//! ring 0 could otherwise read or write on the guest's behalf). What is left
//! can only fault, and the arch layer turns faults into [`Errno::EFAULT`].

use crate::arch::GuestMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::{HYPERVISOR_VIRT_END, HYPERVISOR_VIRT_START};
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// First address after the hypervisor's reserved slots (L4 slot 272); they
/// start where the canonical upper half does, at L4 slot 256.
const HOLE_END: u64 = HYPERVISOR_VIRT_END;
const _: () = assert!(HYPERVISOR_VIRT_START == !(LOWER_HALF_END - 1));
/// First non-canonical address of the lower half.
const LOWER_HALF_END: u64 = 0x0000_8000_0000_0000;

/// Whether `[address, address + length)` lies wholly in guest-owned space.
pub const fn is_guest_range(address: u64, length: u64) -> bool {
    if length == 0 {
        return true;
    }
    let Some(last) = address.checked_add(length - 1) else {
        return false;
    };
    // Both ends in the same half, and the upper half only above the hole.
    (last < LOWER_HALF_END) || (address >= HOLE_END && last >= address)
}

/// Copies `out.len()` bytes from the guest.
pub fn copy_from_guest(guest: &mut impl GuestMemory, address: u64, out: &mut [u8]) -> Result<(), Errno> {
    if !is_guest_range(address, out.len() as u64) {
        return Err(Errno::EFAULT);
    }
    guest.read(address, out).map_err(|_| Errno::EFAULT)
}

/// Copies `data` to the guest.
pub fn copy_to_guest(guest: &mut impl GuestMemory, address: u64, data: &[u8]) -> Result<(), Errno> {
    if !is_guest_range(address, data.len() as u64) {
        return Err(Errno::EFAULT);
    }
    guest.write(address, data).map_err(|_| Errno::EFAULT)
}

/// Reads one `T` from the guest, as a private copy.
pub fn read_from_guest<T: FromBytes + IntoBytes>(guest: &mut impl GuestMemory, address: u64) -> Result<T, Errno> {
    let mut value = T::new_zeroed();
    copy_from_guest(guest, address, value.as_mut_bytes())?;
    Ok(value)
}

/// Writes one `T` to the guest.
pub fn write_to_guest<T: IntoBytes + Immutable>(
    guest: &mut impl GuestMemory,
    address: u64,
    value: &T,
) -> Result<(), Errno> {
    copy_to_guest(guest, address, value.as_bytes())
}

/// `base + offset` for a guest buffer walked in steps: a sum that wraps
/// past the top of the address space is [`Errno::EFAULT`], as Xen refuses a
/// guest range that carries out of 64 bits (and a wrapped address would
/// name memory the guest never passed).
pub fn offset_address(base: u64, offset: u64) -> Result<u64, Errno> {
    base.checked_add(offset).ok_or(Errno::EFAULT)
}

/// The address of element `index` of a guest array of `element_size`-byte
/// elements at `base`, checked at the point of use (XSA-212: a resumed
/// operation's index must be checked, not just the array's base).
pub fn element_address(base: u64, index: u64, element_size: u64) -> Result<u64, Errno> {
    let offset = index.checked_mul(element_size).ok_or(Errno::EFAULT)?;
    offset_address(base, offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::fake::FakeGuestMemory;

    const HOLE_START: u64 = HYPERVISOR_VIRT_START;

    #[test]
    fn guest_space_excludes_the_hypervisor_slots_and_the_non_canonical_gap() {
        assert!(is_guest_range(0, 4096));
        assert!(is_guest_range(LOWER_HALF_END - 8, 8));
        assert!(
            !is_guest_range(LOWER_HALF_END - 8, 9),
            "crosses into the non-canonical gap"
        );
        assert!(
            !is_guest_range(HOLE_START, 1),
            "the RO M2P is guest-readable, but not via hypercalls"
        );
        assert!(!is_guest_range(0xFFFF_82D0_8000_0000, 8), "the hypervisor image");
        assert!(
            !is_guest_range(HOLE_END - 8, 16),
            "ends above the hole but starts in it"
        );
        assert!(is_guest_range(HOLE_END, 8));
        assert!(is_guest_range(0xFFFF_FFFF_8000_0000, 0x1000));
        assert!(!is_guest_range(u64::MAX - 3, 8), "wraps around");
        assert!(!is_guest_range(0x1000, u64::MAX), "huge length");
        assert!(is_guest_range(HOLE_START, 0), "an empty range touches nothing");
    }

    #[test]
    fn faults_and_forbidden_ranges_are_efault() {
        let mut guest = FakeGuestMemory::default();
        guest.map(0x1000, false);
        let mut buffer = [0u8; 8];
        assert_eq!(copy_from_guest(&mut guest, 0x1000, &mut buffer), Ok(()));
        assert_eq!(
            copy_from_guest(&mut guest, 0x1ffc, &mut buffer),
            Err(Errno::EFAULT),
            "runs off the page"
        );
        assert_eq!(
            copy_to_guest(&mut guest, 0x1000, &buffer),
            Err(Errno::EFAULT),
            "read-only page"
        );
        assert_eq!(copy_from_guest(&mut guest, HOLE_START, &mut buffer), Err(Errno::EFAULT));
    }

    #[test]
    fn array_elements_are_checked_at_their_index() {
        assert_eq!(element_address(0x1000, 3, 64), Ok(0x10c0));
        assert_eq!(element_address(0x1000, u64::MAX / 2, 64), Err(Errno::EFAULT));
        assert_eq!(element_address(u64::MAX - 10, 1, 64), Err(Errno::EFAULT));
    }

    #[test]
    fn an_offset_past_the_top_of_the_address_space_is_efault() {
        assert_eq!(offset_address(0x1000, 0x10), Ok(0x1010));
        assert_eq!(offset_address(u64::MAX - 63, 63), Ok(u64::MAX));
        assert_eq!(offset_address(u64::MAX - 63, 64), Err(Errno::EFAULT));
    }
}
