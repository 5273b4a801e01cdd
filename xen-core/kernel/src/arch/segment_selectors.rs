//! The guest's DS, ES, FS and GS across a switch of vCPUs: read back as a
//! vCPU leaves the CPU (the guest loads them in ring 3 without a trap, which
//! also replaces the FS and GS bases), loaded again when it comes back.

use x86_64::instructions::segmentation::{DS, ES, FS, GS, Segment};
use x86_64::registers::model_specific::{FsBase, GsBase};
use x86_64::registers::segmentation::SegmentSelector;
use xen_core::domain::data_selectors::{DataSelectors, SavedSegments};

/// What the vCPU leaving the CPU left in its segment registers.
pub fn save() -> SavedSegments {
    SavedSegments {
        selectors: DataSelectors {
            ds: DS::get_reg().0,
            es: ES::get_reg().0,
            fs: FS::get_reg().0,
            gs: GS::get_reg().0,
        },
        fs_base: FsBase::read().as_u64(),
        gs_base: GsBase::read().as_u64(),
    }
}

/// Loads the coming vCPU's selectors, before its bases (a load replaces
/// them).
pub fn load(selectors: DataSelectors) {
    // SAFETY: each selector is null or names a present DPL-3 data or
    // readable code descriptor that the CPU's GDT or LDT shows now
    // (`PvDomain::loadable_selectors` read it where the CPU will), so no
    // load faults. The hypervisor addresses nothing through DS, ES, FS or
    // GS (flat 64-bit mode, no per-CPU data in a segment), so the loads
    // change only what the guest sees.
    unsafe {
        DS::set_reg(SegmentSelector(selectors.ds));
        ES::set_reg(SegmentSelector(selectors.es));
        FS::set_reg(SegmentSelector(selectors.fs));
        GS::set_reg(SegmentSelector(selectors.gs));
    }
}
