//! `lar`: the access rights of a descriptor, readable from any ring.

/// `lar` of `selector`; `None` when ZF says the CPU would not read it.
pub fn access_rights(selector: u16) -> Option<u32> {
    let rights: u32;
    let valid: u8;
    // SAFETY: `lar` only reads the descriptor tables, faults on nothing a
    // guest can give it (an unusable selector clears ZF), and changes only
    // the two registers named and the flags.
    unsafe {
        core::arch::asm!(
            "xor {rights:e}, {rights:e}",
            "lar {rights:e}, {selector:e}",
            "setz {valid}",
            selector = in(reg) u32::from(selector),
            rights = out(reg) rights,
            valid = out(reg_byte) valid,
            options(nostack),
        );
    }
    (valid != 0).then_some(rights)
}
