//! Where the hypervisor's L4 slots lie in a 64-bit guest's address space, which no
//! guest range may touch. A file of its own because the placement checks in
//! `guest_notes.rs`, the note reader (`found_notes`, for HV_START_LOW) and the
//! reasons for refusing (`notes_error`, which quote it) all use it, and the latter
//! two should not import from `guest_notes.rs`, which uses them.

use crate::mm::layout::{FIRST_HYPERVISOR_L4_SLOT, LAST_HYPERVISOR_L4_SLOT};

/// Start of the hypervisor's L4 slots, the only sensible HV_START_LOW in 64-bit mode.
pub(super) const HYPERVISOR_AREA_START: u64 = l4_slot_base(FIRST_HYPERVISOR_L4_SLOT);
/// End of the hypervisor's L4 slots.
pub(super) const HYPERVISOR_AREA_END: u64 = l4_slot_base(LAST_HYPERVISOR_L4_SLOT + 1);

/// The canonical address where L4 slot `slot` begins.
pub(super) const fn l4_slot_base(slot: usize) -> u64 {
    let address = (slot as u64) << 39;
    if address & (1 << 47) != 0 {
        address | 0xFFFF_0000_0000_0000
    } else {
        address
    }
}
