//! A vCPU's own GDT (`set_gdt`): up to 14 frames of the guest's, typed as
//! descriptor pages for as long as they are its GDT. The CPU sees them as
//! the first 14 pages of its GDT, followed by the hypervisor's reserved
//! page with Xen's selectors (the kernel's descriptor window).

use crate::arch::PhysicalMemory;
use crate::mm::gdt_frames::GdtFrames;
use crate::mm::{FrameTable, Mfn, PageType, TypedRef};
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;
use xen_abi::trap::{FIRST_RESERVED_GDT_ENTRY, FIRST_RESERVED_GDT_PAGE};

/// Descriptors per GDT frame.
const ENTRIES_PER_FRAME: usize = 512;

/// The references of a GDT just replaced.
pub type OldGdt = [Option<TypedRef>; FIRST_RESERVED_GDT_PAGE];

/// The guest's GDT frames and the references that keep them descriptor
/// pages.
#[derive(Debug, Default)]
pub struct GuestGdt {
    frames: [Option<TypedRef>; FIRST_RESERVED_GDT_PAGE],
    entries: usize,
}

impl GuestGdt {
    /// Makes `list` (one frame per 512 entries) the GDT of `entries`
    /// entries, as Xen's `set_gdt`: -EINVAL for more entries than the
    /// guest's part of the GDT holds, or for a frame that is not `owner`'s,
    /// is mapped writable or in use as something else, or holds a
    /// descriptor a guest may not have. On failure nothing changes; on
    /// success the old frames' references come back, for the caller to put
    /// once the CPU no longer shows them.
    pub fn replace(
        &mut self,
        table: &mut FrameTable<'_>,
        memory: &mut impl PhysicalMemory,
        owner: DomId,
        list: &[u64],
        entries: usize,
    ) -> Result<OldGdt, Errno> {
        if entries > FIRST_RESERVED_GDT_ENTRY || list.len() != entries.div_ceil(ENTRIES_PER_FRAME) {
            return Err(Errno::EINVAL);
        }
        let mut taken: [Option<TypedRef>; FIRST_RESERVED_GDT_PAGE] = Default::default();
        for (slot, &frame) in taken.iter_mut().zip(list) {
            match table.get_page_and_type(memory, Mfn(frame), owner, PageType::SegDesc) {
                Ok(typed) => *slot = Some(typed),
                Err(_) => {
                    for typed in taken.into_iter().flatten() {
                        table.put_page_and_type(memory, typed);
                    }
                    return Err(Errno::EINVAL);
                }
            }
        }
        self.entries = entries;
        Ok(core::mem::replace(&mut self.frames, taken))
    }

    /// The frames as the CPU is to see them.
    pub fn frames(&self) -> GdtFrames {
        self.frames.each_ref().map(|typed| typed.as_ref().map(TypedRef::mfn))
    }

    /// Its entries.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Hands back every reference (the domain's death).
    pub fn take_references(&mut self) -> impl Iterator<Item = TypedRef> {
        self.entries = 0;
        core::mem::take(&mut self.frames).into_iter().flatten()
    }
}
