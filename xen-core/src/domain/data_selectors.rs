//! What a vCPU's DS, ES, FS and GS hold while another vCPU runs: the four
//! selectors, and the bases a selector load may have replaced (see
//! [`super::data_segments`] for when they are saved and loaded).

/// The selectors in DS, ES, FS and GS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DataSelectors {
    /// DS.
    pub ds: u16,
    /// ES.
    pub es: u16,
    /// FS.
    pub fs: u16,
    /// GS.
    pub gs: u16,
}

impl DataSelectors {
    /// The four in the order of Xen's failsafe frame, lowest address first.
    pub fn to_array(self) -> [u16; 4] {
        [self.ds, self.es, self.fs, self.gs]
    }

    /// The four from an array in [`DataSelectors::to_array`]'s order.
    pub fn from_array([ds, es, fs, gs]: [u16; 4]) -> Self {
        DataSelectors { ds, es, fs, gs }
    }
}

/// What a vCPU leaving the CPU left in its segment registers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SavedSegments {
    /// DS, ES, FS and GS.
    pub selectors: DataSelectors,
    /// The FS base.
    pub fs_base: u64,
    /// The GS base of the mode the vCPU was in.
    pub gs_base: u64,
}
