//! The guest's own descriptor tables: what a selector's descriptor says,
//! as the CPU reads it.

/// The access rights of `selector`'s descriptor (`lar`: bits 8–23 of its
/// upper half, so the DPL is bits 13–14), or `None` if the CPU will not
/// read it at this privilege (not present, beyond the limit, a DPL below
/// the caller's ring).
pub fn access_rights(selector: u16) -> Option<u32> {
    #[cfg(target_os = "none")]
    {
        crate::arch::segments::access_rights(selector)
    }
    #[cfg(not(target_os = "none"))]
    {
        let _ = selector;
        None
    }
}

/// The DPL in access rights from [`access_rights`].
pub fn dpl(access_rights: u32) -> u32 {
    (access_rights >> 13) & 3
}
