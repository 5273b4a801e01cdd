//! `set_gdt` and `update_descriptor`: the guest's own descriptor tables.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::{PhysicalMemory, Platform};
use crate::guest_copy::copy_from_guest;
use crate::mm::segment_descriptor::check_descriptor;
use crate::mm::{Mfn, PageType};
use xen_abi::errno::Errno;
use xen_abi::trap::{FIRST_RESERVED_GDT_ENTRY, FIRST_RESERVED_GDT_PAGE};
use zerocopy::FromBytes;

/// `set_gdt(frame_list, entries)`: -EINVAL for too many entries or a frame
/// that cannot be a descriptor page, -EFAULT for an unreadable list.
pub fn set_gdt<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [list, entries, ..] = args;
    let entries = usize::try_from(entries)
        .ok()
        .filter(|&entries| entries <= FIRST_RESERVED_GDT_ENTRY)
        .ok_or(Errno::EINVAL)?;
    let count = entries.div_ceil(512);
    let mut bytes = [0u8; FIRST_RESERVED_GDT_PAGE * 8];
    copy_from_guest(context.platform.guest(), list, &mut bytes[..count * 8])?;
    let frames = <[u64; FIRST_RESERVED_GDT_PAGE]>::read_from_bytes(&bytes).map_err(|_| Errno::EFAULT)?;
    let owner = context.domain.id();
    let (memory, guest, _) = context.platform.memory_parts();
    context
        .domain
        .vcpu
        .set_gdt(context.frames, memory, guest, owner, &frames[..count], entries)?;
    Ok(Completion::Value(0))
}

/// `update_descriptor(machine_address, descriptor)`: writes one descriptor
/// into a frame of the caller's, as Xen does: -EINVAL for a misaligned
/// address, a descriptor a guest may not have, a frame not the caller's or
/// in use as a page table. A descriptor page (a GDT or LDT in use) may be
/// written this way; its fix-ups are applied first.
pub fn update_descriptor<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    args: [u64; 5],
) -> Result<Completion, Errno> {
    let [address, descriptor, ..] = args;
    if !address.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let descriptor = check_descriptor(descriptor).ok_or(Errno::EINVAL)?;
    let frame = Mfn(address >> 12);
    let owner = context.domain.id();
    let memory = context.platform.memory();
    let page_type = match context.frames.frame(frame) {
        Some(info) if info.page_type() == PageType::SegDesc && info.type_count() > 0 => PageType::SegDesc,
        _ => PageType::Writable,
    };
    let held = context
        .frames
        .get_page_and_type(memory, frame, owner, page_type)
        .map_err(|_| Errno::EINVAL)?;
    memory.write_u64(address, descriptor);
    context.frames.put_page_and_type(memory, held);
    Ok(Completion::Value(0))
}
