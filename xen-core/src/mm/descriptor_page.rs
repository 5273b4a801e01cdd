//! Frames typed as segment-descriptor pages (Xen's `PGT_seg_desc_page`):
//! the frames of a guest's GDT and LDT. The type excludes every other, so
//! a descriptor page is never mapped writable and a page mapped writable
//! never becomes one; each time a page takes the type afresh, its 512
//! descriptors are checked (`segment_descriptor`), their fix-ups written
//! back as Xen writes them.

use super::Mfn;
use super::frame_info::MAX_REFS;
use super::frame_table::FrameTable;
use super::mfn::PAGE_SIZE;
use super::page_type::PageType;
use super::segment_descriptor::check_descriptor;
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;

impl FrameTable<'_> {
    /// Counts a descriptor-page typed reference on `mfn`, on which the
    /// caller holds a general reference. -EINVAL if the frame has another
    /// type in use or holds a descriptor a guest may not have (the fix-ups
    /// before that one stay, as on Xen), -EBUSY while a release is under way.
    pub(super) fn get_descriptor_type<M: PhysicalMemory>(&mut self, memory: &mut M, mfn: Mfn) -> Result<(), Errno> {
        let frame = self.frame(mfn).ok_or(Errno::EINVAL)?;
        if frame.count == 0 || frame.type_count >= MAX_REFS {
            return Err(Errno::EINVAL);
        }
        if frame.releasing {
            return Err(Errno::EBUSY);
        }
        if frame.type_count > 0 {
            if frame.page_type != PageType::SegDesc {
                return Err(Errno::EINVAL);
            }
        } else {
            // No typed reference: nothing maps it writable, so its words
            // hold still while they are checked.
            for at in (0..PAGE_SIZE).step_by(8).map(|offset| mfn.address() + offset) {
                let descriptor = memory.read_u64(at);
                match check_descriptor(descriptor) {
                    None => return Err(Errno::EINVAL),
                    Some(fixed) if fixed != descriptor => memory.write_u64(at, fixed),
                    Some(_) => {}
                }
            }
        }
        let frame = self.frame_mut(mfn).ok_or(Errno::EINVAL)?;
        frame.page_type = PageType::SegDesc;
        frame.validated = true;
        frame.type_count += 1;
        Ok(())
    }
}
