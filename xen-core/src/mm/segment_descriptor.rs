//! Which segment descriptors a 64-bit PV guest may put in its GDT or LDT,
//! as Xen's `check_descriptor` decides it.
//!
//! - Not present: anything, unchanged (it can never be loaded).
//! - Code and data: any, with a DPL below 3 raised to 3 (the guest kernel
//!   runs in ring 3, so nothing it defines may give ring 0 or 1 access).
//! - System type 0: accepted unchanged (the upper half of a 16-byte gate).
//! - Call gates: the target selector a guest GDT entry, `FLAT_KERNEL_CS` or
//!   an LDT selector, no parameter count; the gate's DPL forced to 0 and its
//!   own DPL kept in the target's RPL, so any use is a #GP the guest sees.
//!   Nothing checks the target address: the gate cannot be entered.
//! - Any other system descriptor (LDT, TSS, interrupt, trap and task gates):
//!   refused.

use xen_abi::trap::{FIRST_RESERVED_GDT_ENTRY, FLAT_KERNEL_CS};

/// The present bit.
const PRESENT: u64 = 1 << 47;
/// The descriptor-type bit: code or data, not system.
const CODE_OR_DATA: u64 = 1 << 44;
/// The DPL field's shift.
const DPL_SHIFT: u32 = 45;
/// The DPL field.
const DPL: u64 = 3 << DPL_SHIFT;
/// The type field's shift.
const TYPE_SHIFT: u32 = 40;
/// A 64-bit call gate's type.
const CALL_GATE: u64 = 0xc;
/// The table-indicator bit of a selector: the LDT.
const SELECTOR_LDT: u64 = 4;

/// `descriptor` as the guest may have it (DPLs fixed up), or `None` if it
/// may not.
pub fn check_descriptor(descriptor: u64) -> Option<u64> {
    if descriptor & PRESENT == 0 {
        return Some(descriptor);
    }
    let fixed = (descriptor & !DPL) | 3 << DPL_SHIFT;
    if descriptor & CODE_OR_DATA != 0 {
        return Some(fixed);
    }
    match (descriptor >> TYPE_SHIFT) & 0xf {
        0 => Some(descriptor),
        CALL_GATE => {
            let target = (descriptor >> 16) & 0xffff;
            let target_ok = (target >> 3) < FIRST_RESERVED_GDT_ENTRY as u64
                || target == u64::from(FLAT_KERNEL_CS)
                || target & SELECTOR_LDT != 0;
            // Parameter count and reserved bits 32-39.
            if !target_ok || (descriptor >> 32) & 0xff != 0 {
                return None;
            }
            // The guest's DPL (3 after the fix-up) goes to the target's RPL.
            let target = (target & !3) | 3;
            Some((fixed & !DPL & !(0xffff << 16)) | target << 16)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat 64-bit code segment with DPL `dpl`.
    fn code(dpl: u64) -> u64 {
        0x00af_9b00_0000_ffff | dpl << DPL_SHIFT
    }

    #[test]
    fn code_and_data_get_dpl_3_and_anything_not_present_passes_unchanged() {
        assert_eq!(check_descriptor(code(0)), Some(code(3)), "ring 0 code becomes ring 3");
        assert_eq!(check_descriptor(code(1)), Some(code(3)));
        assert_eq!(check_descriptor(code(3)), Some(code(3)));
        let conforming = 0x00af_9f00_0000_ffff;
        assert_eq!(
            check_descriptor(conforming),
            Some(conforming | DPL),
            "conforming is allowed, at DPL 3"
        );
        let data = 0x00cf_9300_0000_ffff;
        assert_eq!(check_descriptor(data), Some(data | DPL));
        let tss_not_present = 0x0000_0900_0000_0067;
        assert_eq!(check_descriptor(tss_not_present), Some(tss_not_present));
        assert_eq!(check_descriptor(0), Some(0));
    }

    #[test]
    fn system_descriptors_but_call_gates_and_gate_upper_halves_are_refused() {
        for kind in [0x2u64, 0x9, 0xb, 0x5, 0xe, 0xf] {
            let system = PRESENT | kind << TYPE_SHIFT | 0x67;
            assert_eq!(check_descriptor(system), None, "type {kind:#x}");
        }
        assert_eq!(
            check_descriptor(PRESENT),
            Some(PRESENT),
            "system type 0 (a gate's upper half)"
        );
    }

    #[test]
    fn call_gates_become_unusable_and_must_target_a_guest_selector() {
        let gate =
            |selector: u64, dpl: u64| PRESENT | CALL_GATE << TYPE_SHIFT | dpl << DPL_SHIFT | selector << 16 | 0x1000;
        let checked = check_descriptor(gate(0x10, 3)).expect("a guest GDT selector");
        assert_eq!((checked & DPL) >> DPL_SHIFT, 0, "DPL 0: every use faults");
        assert_eq!((checked >> 16) & 0xffff, 0x13, "the DPL moved into the target's RPL");
        assert!(check_descriptor(gate(u64::from(FLAT_KERNEL_CS), 0)).is_some());
        assert!(check_descriptor(gate(0xe00c, 3)).is_some(), "an LDT selector");
        assert_eq!(check_descriptor(gate(0xe008, 3)), None, "the hypervisor's code");
        assert_eq!(check_descriptor(gate(0x10, 3) | 1 << 32), None, "a parameter count");
    }
}
