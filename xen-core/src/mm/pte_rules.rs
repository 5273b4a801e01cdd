//! Guest page-table entry rules for 64-bit PV guests: which flags a guest may set at each level, the USER forcing
//! of 64-bit PV (both guest modes run in ring 3), and which changes skip
//! revalidation (as Xen's `arch/x86/mm.c` decides them).
//!
//! Pure functions of an entry's bits; the references an entry holds are taken
//! and dropped in `entry_refs`.

use super::Mfn;
use super::layout::{FIRST_HYPERVISOR_L4_SLOT, LAST_HYPERVISOR_L4_SLOT};
use super::page_type::TableLevel;
use xen_abi::errno::Errno;
// The entry format is the ABI's; the rules below are the hypervisor's.
pub use xen_abi::page_table_entry::{
    ACCESSED, ADDRESS_MASK, AVAIL, AVAIL_HIGH, DIRTY, ENTRIES_PER_TABLE, GLOBAL, GNTTAB, GUEST_KERNEL, NX, PCD,
    PRESENT, PSE, PWT, RW, USER,
};

/// L4 slots reserved to the hypervisor (256–271).
pub const HYPERVISOR_L4_SLOTS: usize = LAST_HYPERVISOR_L4_SLOT - FIRST_HYPERVISOR_L4_SLOT + 1;

/// The frame an entry with every address bit set names (Xen's `INVALID_MFN`
/// as a PTE can spell it).
pub const INVALID_ENTRY_MFN: Mfn = Mfn(ADDRESS_MASK >> 12);

/// Bits a guest may set in any entry.
pub const GUEST_FLAGS: u64 = PRESENT | RW | USER | ACCESSED | DIRTY | AVAIL | AVAIL_HIGH | NX;
/// Bits of the folded flag form.
const FOLDED_BITS: u32 = 0x00ff_ffff;
/// Flags no guest entry may have, folded (`base_disallow_mask`): PWT, PCD,
/// PSE/PAT and GLOBAL.
pub const BASE_DISALLOW_MASK: u32 = !fold_flags(GUEST_FLAGS) & FOLDED_BITS;
/// Flags no guest L1 entry may have: the base mask plus the grant bit, minus
/// GLOBAL (allowed on user mappings).
pub const L1_DISALLOW_MASK: u32 = (BASE_DISALLOW_MASK | fold_flags(GNTTAB)) & !fold_flags(GLOBAL);

/// Bits that may change without revalidating the entry. Never RW (XSA-182)
/// and never the frame, PRESENT or the caching bits; never the grant bit,
/// whose entries only `unmap_grant_ref` may change.
pub const FAST_PATH_BITS: u64 = NX | (AVAIL_HIGH & !GNTTAB) | AVAIL | GLOBAL | DIRTY | ACCESSED | USER;

/// Folds an entry's flags into 24 bits: bits 0–11 stay, bits 52–63 move to 12–23
/// (Xen's `get_pte_flags`).
pub const fn fold_flags(entry: u64) -> u32 {
    (((entry >> 40) & 0x00ff_f000) | (entry & 0xfff)) as u32
}

/// The folded flags a guest entry of `level` may not have.
pub const fn disallow_mask(level: TableLevel) -> u32 {
    match level {
        TableLevel::L1 => L1_DISALLOW_MASK,
        TableLevel::L2 | TableLevel::L3 | TableLevel::L4 => BASE_DISALLOW_MASK,
    }
}

/// Refuses a present entry with flags its level disallows (-EINVAL).
pub const fn check_entry_flags(entry: u64, level: TableLevel) -> Result<(), Errno> {
    if fold_flags(entry) & disallow_mask(level) != 0 {
        Err(Errno::EINVAL)
    } else {
        Ok(())
    }
}

/// The entry as it is installed: USER forced at every level;
/// an L1 entry written without USER is tagged [`GUEST_KERNEL`]; kernel L1
/// entries lose GLOBAL and user L1 entries gain it; L4 entries gain ACCESSED.
///
/// Xen only warns about GLOBAL on kernel entries; we clear it, since a global
/// kernel mapping would survive the switch to the user L4.
pub const fn adjust_entry(entry: u64, level: TableLevel) -> u64 {
    if entry & PRESENT == 0 {
        return entry;
    }
    match level {
        TableLevel::L1 => {
            let entry = if entry & USER == 0 {
                entry | USER | GUEST_KERNEL
            } else {
                entry
            };
            if entry & GUEST_KERNEL != 0 {
                entry & !GLOBAL
            } else {
                entry | GLOBAL
            }
        }
        TableLevel::L2 | TableLevel::L3 => entry | USER,
        TableLevel::L4 => entry | USER | ACCESSED,
    }
}

/// Whether replacing present `old` with present, adjusted `new` only changes
/// bits of [`FAST_PATH_BITS`], so the references `old` holds serve `new` too.
pub const fn is_fast_path_change(old: u64, new: u64) -> bool {
    old & PRESENT != 0 && (old ^ new) & !FAST_PATH_BITS == 0
}

/// Whether the entry is present.
pub const fn is_present(entry: u64) -> bool {
    entry & PRESENT != 0
}

/// Whether the entry is a present grant mapping (an L1 entry that
/// `map_grant_ref` wrote).
pub const fn is_grant_mapping(entry: u64) -> bool {
    entry & (PRESENT | GNTTAB) == PRESENT | GNTTAB
}

/// The frame an entry names.
pub const fn entry_mfn(entry: u64) -> Mfn {
    Mfn((entry & ADDRESS_MASK) >> 12)
}

/// Whether slot `index` of a table of `level` belongs to the guest: every slot
/// but L4 slots 256–271 (`is_guest_l4_slot`).
pub const fn is_guest_slot(level: TableLevel, index: usize) -> bool {
    index < ENTRIES_PER_TABLE
        && !(matches!(level, TableLevel::L4) && index >= FIRST_HYPERVISOR_L4_SLOT && index <= LAST_HYPERVISOR_L4_SLOT)
}

/// Physical address of entry `index` of table `table`.
pub const fn entry_address(table: Mfn, index: usize) -> u64 {
    table.address() + index as u64 * 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_moves_the_high_bits_down() {
        assert_eq!(fold_flags(NX), 0x80_0000);
        assert_eq!(fold_flags(GUEST_KERNEL), 0x1000);
        assert_eq!(fold_flags(GNTTAB), 0x40_0000);
        // Address bits do not leak into the folded form.
        assert_eq!(fold_flags(ADDRESS_MASK | PRESENT), 1);
    }

    #[test]
    fn masks_match_xen() {
        assert_eq!(BASE_DISALLOW_MASK, 0x198);
        assert_eq!(L1_DISALLOW_MASK, 0x40_0098);
    }

    #[test]
    fn superpages_caching_and_upper_global_are_refused() {
        for level in [TableLevel::L2, TableLevel::L3, TableLevel::L4] {
            for bit in [PSE, PWT, PCD, GLOBAL] {
                assert_eq!(
                    check_entry_flags(PRESENT | bit, level),
                    Err(Errno::EINVAL),
                    "{level:?} {bit:#x}"
                );
            }
            assert_eq!(
                check_entry_flags(PRESENT | RW | USER | ACCESSED | DIRTY | NX | AVAIL, level),
                Ok(())
            );
        }
    }

    #[test]
    fn l1_allows_global_and_refuses_caching_pat_and_the_grant_bit() {
        let l1 = TableLevel::L1;
        assert_eq!(check_entry_flags(PRESENT | GLOBAL | AVAIL_HIGH & !GNTTAB, l1), Ok(()));
        for bit in [PSE, PWT, PCD, GNTTAB] {
            assert_eq!(check_entry_flags(PRESENT | bit, l1), Err(Errno::EINVAL), "{bit:#x}");
        }
    }

    #[test]
    fn kernel_l1_entries_are_tagged_user_and_never_global() {
        let adjusted = adjust_entry(PRESENT | RW | GLOBAL, TableLevel::L1);
        assert_eq!(adjusted, PRESENT | RW | USER | GUEST_KERNEL);
        // Already adjusted entries stay as they are (the builder writes these).
        assert_eq!(adjust_entry(adjusted, TableLevel::L1), adjusted);
    }

    #[test]
    fn user_l1_entries_become_global() {
        assert_eq!(adjust_entry(PRESENT | USER, TableLevel::L1), PRESENT | USER | GLOBAL);
    }

    #[test]
    fn upper_levels_gain_user_but_never_rw() {
        // XSA-185's 64-bit analogue: the hypervisor never makes an entry writable.
        for level in [TableLevel::L2, TableLevel::L3] {
            assert_eq!(adjust_entry(PRESENT, level), PRESENT | USER);
        }
        assert_eq!(adjust_entry(PRESENT, TableLevel::L4), PRESENT | USER | ACCESSED);
        assert_eq!(
            adjust_entry(0x1000, TableLevel::L4),
            0x1000,
            "non-present entries are left alone"
        );
    }

    #[test]
    fn rw_and_frame_changes_are_never_fast() {
        let old = 0x5000 | PRESENT | USER;
        assert!(is_fast_path_change(old, old | ACCESSED | DIRTY | NX | AVAIL));
        assert!(!is_fast_path_change(old, old | RW));
        assert!(!is_fast_path_change(old | RW, old));
        assert!(!is_fast_path_change(old, 0x6000 | PRESENT | USER));
        assert!(!is_fast_path_change(0x5000, 0x5000 | PRESENT));
    }

    #[test]
    fn hypervisor_slots_are_not_guest_slots() {
        assert!(is_guest_slot(TableLevel::L4, 255));
        assert!(!is_guest_slot(TableLevel::L4, 256));
        assert!(!is_guest_slot(TableLevel::L4, 271));
        assert!(is_guest_slot(TableLevel::L4, 272));
        assert!(is_guest_slot(TableLevel::L3, 256));
        assert!(!is_guest_slot(TableLevel::L1, 512));
    }
}
