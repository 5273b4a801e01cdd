//! `grant_table_op(cmd, ops, count)` (#20), version 1: setup_table,
//! query_size, map_grant_ref, unmap_grant_ref, copy, set/get_version.
//!
//! Batches report per operation in each op's `status`; the hypercall itself
//! fails only for a bad command or an unreadable list. Long batches are
//! continued in steps of [`BATCH`] so no call runs unbounded.
//!
//! Not supported (GNTST_general_error): device mappings, `contains_pte`,
//! application (user-mode) mappings, transfers and version 2.

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::{GuestMemory, PhysicalMemory, Platform};
use crate::domain::domain_table::Others;
use crate::domain::pv_domain::PvDomain;
use crate::grant::MapTrackEntry;
use crate::guest_copy::{copy_to_guest, element_address, read_from_guest, write_to_guest};
use crate::mm::grant_mapping::GrantMapping;
use crate::mm::layout::is_canonical;
use crate::mm::tlb_flush::TlbFlush;
use crate::mm::{Mfn, PageType};
use xen_abi::errno::Errno;
use xen_abi::grant_table::*;
use xen_abi::mmu::DOMID_SELF;
use xen_abi::mmu::DomId;
use xen_abi::page_table_entry::PAGE_SIZE;
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// Operations done per call before it continues itself.
const BATCH: u64 = 64;

/// `grant_table_op(cmd, ops, count)`.
pub fn grant_table_op<P: Platform>(context: &mut HypercallContext<'_, P>, args: [u64; 5]) -> Result<Completion, Errno> {
    let [command, ops, count, ..] = args;
    match u32::try_from(command) {
        Ok(GNTTABOP_SETUP_TABLE) => single(context, ops, count, setup_table),
        Ok(GNTTABOP_QUERY_SIZE) => single(context, ops, count, query_size),
        Ok(GNTTABOP_MAP_GRANT_REF) => batch(context, command, ops, count, map_grant_ref),
        Ok(GNTTABOP_UNMAP_GRANT_REF) => batch(context, command, ops, count, unmap_grant_ref),
        Ok(GNTTABOP_COPY) => batch(context, command, ops, count, copy),
        Ok(GNTTABOP_SET_VERSION) => single(context, ops, count, |_, op: &mut GnttabSetVersion| {
            // Version 1 is all there is; asking for it again is fine.
            if op.version == 1 { Ok(()) } else { Err(Errno::EINVAL) }
        }),
        Ok(GNTTABOP_GET_VERSION) => {
            // struct gnttab_get_version: dom u16, pad, version u32 @4.
            let mut op: [u32; 2] = read_from_guest(context.platform.guest(), ops)?;
            let dom = op[0] as u16;
            target(context.domain, &mut context.others, dom).map_err(|status| match status {
                GNTST_BAD_DOMAIN => Errno::ESRCH,
                _ => Errno::EPERM,
            })?;
            op[1] = 1;
            write_to_guest(context.platform.guest(), ops, &op)?;
            Ok(Completion::Value(0))
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// An op that takes exactly one struct (count must be 1, as in Xen).
fn single<P: Platform, T: FromBytes + IntoBytes + Immutable>(
    context: &mut HypercallContext<'_, P>,
    address: u64,
    count: u64,
    run: impl FnOnce(&mut HypercallContext<'_, P>, &mut T) -> Result<(), Errno>,
) -> Result<Completion, Errno> {
    if count != 1 {
        return Err(Errno::EINVAL);
    }
    let mut op: T = read_from_guest(context.platform.guest(), address)?;
    run(context, &mut op)?;
    write_to_guest(context.platform.guest(), address, &op)?;
    Ok(Completion::Value(0))
}

/// Runs `run` on each of `count` structs at `address`, writing each back
/// with its status; continues after [`BATCH`].
fn batch<P: Platform, T: FromBytes + IntoBytes + Immutable>(
    context: &mut HypercallContext<'_, P>,
    command: u64,
    address: u64,
    count: u64,
    mut run: impl FnMut(&mut HypercallContext<'_, P>, &mut T),
) -> Result<Completion, Errno> {
    let size = size_of::<T>() as u64;
    let now = count.min(BATCH);
    for index in 0..now {
        let at = element_address(address, index, size)?;
        let mut op: T = read_from_guest(context.platform.guest(), at)?;
        run(context, &mut op);
        write_to_guest(context.platform.guest(), at, &op)?;
    }
    if now < count {
        // The rest of a list that ends on the last byte of the address
        // space would start past it: -EFAULT, never a wrap to address 0.
        let rest = element_address(address, now, size)?;
        return Ok(Completion::Continue([command, rest, count - now, 0, 0]));
    }
    Ok(Completion::Value(0))
}

/// Domain `dom` (DOMID_SELF for the caller) among the caller and the others.
fn resolve<'d>(caller: &'d mut PvDomain, others: &'d mut Others<'_>, dom: DomId) -> Option<&'d mut PvDomain> {
    if dom == DOMID_SELF || dom == caller.id() {
        Some(caller)
    } else {
        others.get_mut(dom)
    }
}

/// The domain a setup or query names: the caller, or any if privileged.
fn target<'d>(caller: &'d mut PvDomain, others: &'d mut Others<'_>, dom: DomId) -> Result<&'d mut PvDomain, i16> {
    let privileged = caller.privilege().is_some();
    let is_self = dom == DOMID_SELF || dom == caller.id();
    let domain = resolve(caller, others, dom).ok_or(GNTST_BAD_DOMAIN)?;
    if !is_self && !privileged {
        return Err(GNTST_PERMISSION_DENIED);
    }
    Ok(domain)
}

fn setup_table<P: Platform>(context: &mut HypercallContext<'_, P>, op: &mut GnttabSetupTable) -> Result<(), Errno> {
    op.status = GNTST_OKAY;
    let domain = match target(context.domain, &mut context.others, op.dom) {
        Ok(domain) => domain,
        Err(status) => {
            op.status = status;
            return Ok(());
        }
    };
    // The table grows to what is asked, up to its maximum, as Xen's
    // `gnttab_grow_table`: frames are the hypervisor's pages shared with
    // the domain, outside its reservation.
    if op.nr_frames > domain.grants.max_frames() {
        op.status = GNTST_GENERAL_ERROR;
        return Ok(());
    }
    while domain.grants.frames_in_use() < op.nr_frames {
        let Some(mfn) = context.platform.allocate_extent(0, Mfn(u64::MAX)) else {
            op.status = GNTST_GENERAL_ERROR;
            return Ok(());
        };
        let id = domain.id();
        if context.frames.assign_shared_xen_page(mfn, id).is_err() {
            context.platform.free_frame(mfn);
            op.status = GNTST_GENERAL_ERROR;
            return Ok(());
        }
        let memory = context.platform.memory();
        memory.zero_frame(mfn);
        // A fresh frame of its own: typing it cannot fail. Were it to, the
        // frame would stay the domain's and go back at its end.
        match context.frames.get_page_and_type(memory, mfn, id, PageType::Writable) {
            Ok(typed) => {
                if let Err(typed) = domain.grants.add_frame(typed) {
                    context.frames.put_page_and_type(memory, typed);
                }
            }
            Err(_) => {
                op.status = GNTST_GENERAL_ERROR;
                return Ok(());
            }
        }
    }
    let Some(frames) = domain.grants.setup(op.nr_frames) else {
        op.status = GNTST_GENERAL_ERROR;
        return Ok(());
    };
    let mut list = [0u64; crate::grant::grant_table::MAX_GRANT_FRAMES];
    let mut count = 0;
    for (slot, frame) in list.iter_mut().zip(frames) {
        *slot = frame.0;
        count += 1;
    }
    copy_to_guest(context.platform.guest(), op.frame_list, list[..count].as_bytes())
}

fn query_size<P: Platform>(context: &mut HypercallContext<'_, P>, op: &mut GnttabQuerySize) -> Result<(), Errno> {
    match target(context.domain, &mut context.others, op.dom) {
        Ok(domain) => {
            op.nr_frames = domain.grants.frames_in_use();
            op.max_nr_frames = domain.grants.max_frames();
            op.status = GNTST_OKAY;
        }
        Err(status) => op.status = status,
    }
    Ok(())
}

fn map_grant_ref<P: Platform>(context: &mut HypercallContext<'_, P>, op: &mut GnttabMapGrantRef) {
    match map_one(context, op) {
        Ok(handle) => {
            op.status = GNTST_OKAY;
            op.handle = handle;
        }
        Err(status) => {
            op.status = status;
            op.handle = u32::MAX;
        }
    }
    op.dev_bus_addr = 0;
}

/// Maps one grant: pin it at the granter, write the caller's L1 entry,
/// record the handle; each step undone if a later one fails.
fn map_one<P: Platform>(context: &mut HypercallContext<'_, P>, op: &GnttabMapGrantRef) -> Result<u32, i16> {
    let flags = GntmapFlags::from_bits_retain(op.flags);
    let unsupported = GntmapFlags::DEVICE_MAP | GntmapFlags::APPLICATION_MAP | GntmapFlags::CONTAINS_PTE;
    if !flags.contains(GntmapFlags::HOST_MAP) || flags.intersects(unsupported) {
        return Err(GNTST_GENERAL_ERROR);
    }
    if !op.host_addr.is_multiple_of(PAGE_SIZE) || !is_canonical(op.host_addr) {
        return Err(GNTST_BAD_VIRT_ADDR);
    }
    if !context.domain.maptrack.has_room() {
        return Err(GNTST_NO_DEVICE_SPACE);
    }
    let base = base_of(context.domain)?;
    let writable = !flags.contains(GntmapFlags::READONLY);
    let mapper = context.domain.id();
    let memory = context.platform.memory();
    let granter = resolve(context.domain, &mut context.others, op.dom).ok_or(GNTST_BAD_DOMAIN)?;
    let granter_id = granter.id();
    let frame = granter.grants.pin(memory, op.gref, mapper, writable)?;
    let mapping = GrantMapping {
        // `GNTMAP_guest_avail0` on: the guest's bits for the entry.
        guest_avail: (op.flags >> 16) as u8 & 7,
        va: op.host_addr,
        frame,
        granter: granter_id,
        writable,
    };
    let memory = context.platform.memory();
    if let Err(errno) = context.frames.map_grant(memory, mapper, base, &mapping) {
        if let Some(granter) = resolve(context.domain, &mut context.others, granter_id) {
            granter.grants.unpin(memory, op.gref, writable);
        }
        return Err(if errno == Errno::EINVAL {
            GNTST_BAD_VIRT_ADDR
        } else {
            GNTST_GENERAL_ERROR
        });
    }
    context.platform.guest().flush_tlb(TlbFlush::Page(op.host_addr));
    let entry = MapTrackEntry { gref: op.gref, mapping };
    // Room was checked first, and nothing since took any.
    context.domain.maptrack.insert(entry).ok_or(GNTST_NO_DEVICE_SPACE)
}

/// The page-table base the caller runs on.
fn base_of(domain: &PvDomain) -> Result<Mfn, i16> {
    Ok(domain.vcpu.kernel_base.as_ref().ok_or(GNTST_GENERAL_ERROR)?.mfn())
}

fn unmap_grant_ref<P: Platform>(context: &mut HypercallContext<'_, P>, op: &mut GnttabUnmapGrantRef) {
    op.status = match unmap_one(context, op) {
        Ok(()) => GNTST_OKAY,
        Err(status) => status,
    };
}

/// Unmaps by handle: the address must be the one mapped, and the entry
/// there still the grant's; then the entry, the references, the pin and
/// the handle go.
fn unmap_one<P: Platform>(context: &mut HypercallContext<'_, P>, op: &GnttabUnmapGrantRef) -> Result<(), i16> {
    let entry = *context.domain.maptrack.get(op.handle).ok_or(GNTST_BAD_HANDLE)?;
    if op.host_addr != entry.mapping.va {
        return Err(GNTST_GENERAL_ERROR);
    }
    let base = base_of(context.domain)?;
    let memory = context.platform.memory();
    context
        .frames
        .unmap_grant(memory, context.domain.id(), base, &entry.mapping)
        .map_err(|_| GNTST_GENERAL_ERROR)?;
    context.platform.guest().flush_tlb(TlbFlush::Page(entry.mapping.va));
    context.domain.maptrack.remove(op.handle);
    let memory = context.platform.memory();
    // A granter that is gone has nothing left to unpin.
    if let Some(granter) = resolve(context.domain, &mut context.others, entry.mapping.granter) {
        granter.grants.unpin(memory, entry.gref, entry.mapping.writable);
    }
    Ok(())
}

fn copy<P: Platform>(context: &mut HypercallContext<'_, P>, op: &mut GnttabCopy) {
    op.status = match copy_one(context, op) {
        Ok(()) => GNTST_OKAY,
        Err(status) => status,
    };
}

/// One side of a copy: the frame and its owner.
struct CopyEnd {
    frame: Mfn,
    owner: DomId,
}

/// Copies `len` bytes between two frames, each named by a grant reference
/// (granted to the caller) or, for the caller's own frames, directly. The
/// frames are held (the destination with a writable type, so it cannot be
/// a page table) for the copy.
fn copy_one<P: Platform>(context: &mut HypercallContext<'_, P>, op: &GnttabCopy) -> Result<(), i16> {
    let flags = GntcopyFlags::from_bits_retain(op.flags);
    let len = u64::from(op.len);
    for end in [&op.source, &op.dest] {
        if u64::from(end.offset) + len > PAGE_SIZE {
            return Err(GNTST_BAD_COPY_ARG);
        }
    }
    let source = copy_end(context, &op.source, flags.contains(GntcopyFlags::SOURCE_GREF), false)?;
    let dest = copy_end(context, &op.dest, flags.contains(GntcopyFlags::DEST_GREF), true)?;
    let memory = context.platform.memory();
    let source_ref = context
        .frames
        .get_page(source.frame, source.owner)
        .map_err(|_| GNTST_BAD_PAGE)?;
    let dest_ref = match context
        .frames
        .get_page_and_type(memory, dest.frame, dest.owner, PageType::Writable)
    {
        Ok(typed) => typed,
        Err(_) => {
            context.frames.put_page(source_ref);
            return Err(GNTST_BAD_PAGE);
        }
    };
    let from = source.frame.address() + u64::from(op.source.offset);
    let to = dest.frame.address() + u64::from(op.dest.offset);
    memory.copy_bytes(from, to, len as usize);
    context.frames.put_page_and_type(memory, dest_ref);
    context.frames.put_page(source_ref);
    Ok(())
}

/// The frame one side of a copy names, after the checks Xen makes: a
/// grant of `end.domid` to the caller (writable if `write`), or the
/// caller's own frame (another domain's only for the privileged).
fn copy_end<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    end: &GnttabCopyPtr,
    by_grant: bool,
    write: bool,
) -> Result<CopyEnd, i16> {
    let caller = context.domain.id();
    let privileged = context.domain.privilege().is_some();
    let memory = context.platform.memory();
    let domain = resolve(context.domain, &mut context.others, end.domid).ok_or(GNTST_BAD_DOMAIN)?;
    let owner = domain.id();
    if by_grant {
        // `u` is a union of a 32-bit reference and a 64-bit frame: only the
        // low half is the reference (callers reuse copy arrays for both).
        let gref = end.u as u32;
        let granted = domain.grants.check(memory, gref, caller, write)?;
        return Ok(CopyEnd {
            frame: granted.frame,
            owner,
        });
    }
    if owner != caller && !privileged {
        return Err(GNTST_PERMISSION_DENIED);
    }
    Ok(CopyEnd {
        frame: Mfn(end.u),
        owner,
    })
}
