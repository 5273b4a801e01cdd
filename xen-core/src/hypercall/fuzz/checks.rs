//! What must hold after every fuzzer step, whatever the guests did.

use super::world::{StepReport, World, base_of, written_grants};
use crate::mm::budget::ENTRIES_PER_INVOCATION;
use crate::mm::{Mfn, PageType, TableLevel};
use std::collections::BTreeSet;
use std::format;
use std::string::String;

/// Hypervisor word reads one invocation may make: its page-table budget
/// (validation, release and teardown alike), and what the rest of a call
/// reads besides (a grant copy's 4 KiB read byte by byte by the fake,
/// batches of requests).
pub const MAX_READS_PER_INVOCATION: u64 = ENTRIES_PER_INVOCATION + 3 * 4096;

/// Every check, in order; the first broken one as text. The recount of
/// every reference (`recount`) is the slow one: callers make it every few
/// steps, and shrinking finds the step that broke it.
pub fn after_step(world: &World, report: &StepReport, recount: bool) -> Result<(), String> {
    if report.max_reads > MAX_READS_PER_INVOCATION {
        return Err(format!("one invocation read {} words", report.max_reads));
    }
    if world.teardown_reads > MAX_READS_PER_INVOCATION {
        return Err(format!("one teardown pass read {} words", world.teardown_reads));
    }
    if recount {
        world
            .frames
            .check_invariants(&world.platform.memory)
            .map_err(|violation| format!("frame table: {violation}"))?;
    }
    check_reservations(world)?;
    check_cpu(world)?;
    if let Some(caller) = report.caller {
        check_writes(world, caller, report)?;
        check_registers(world, caller)?;
        check_descriptor_state(world, caller)?;
    }
    Ok(())
}

/// Memory changes hands only through the allocator: a frame the allocator
/// may hand out belongs to no domain, and no domain holds more than its
/// reservation allows (the recount of `owned_by` is the invariant
/// checker's).
fn check_reservations(world: &World) -> Result<(), String> {
    for (index, frame) in world.frames.frames().iter().enumerate() {
        let mfn = Mfn(index as u64);
        if world.platform.frames.is_free(mfn) && !frame.is_free() {
            return Err(format!("{mfn} is free to allocate but {frame:?}"));
        }
    }
    for domain in world.domains.iter() {
        let owned = world.frames.owned_by(domain.id());
        if owned > domain.reservation.max_pages() {
            return Err(format!(
                "d{} owns {owned} frames, over its {}",
                domain.id(),
                domain.reservation.max_pages()
            ));
        }
        // Its grant frames, however far the table grew, are its own and
        // typed writable (never a page table).
        let frames = domain.grants.frames_in_use();
        if frames > domain.grants.max_frames() {
            return Err(format!("d{} has {frames} grant frames", domain.id()));
        }
        for frame in 0..frames {
            let Some(address) = domain.grants.entry_address(frame * 512) else {
                return Err(format!("d{}'s grant frame {frame} has no address", domain.id()));
            };
            let info = world.frames.frame(Mfn(address >> 12));
            if !info.is_some_and(|info| info.owner() == Some(domain.id()) && info.page_type() == PageType::Writable) {
                return Err(format!("d{}'s grant frame {frame} is {info:?}", domain.id()));
            }
        }
    }
    Ok(())
}

/// What the CPU would load for the caller from its descriptor tables,
/// debug registers and vcpu_info stays the guest's: every descriptor in a
/// GDT or LDT frame in use is one a guest may have (checked and fixed up), each
/// such frame is the caller's and typed a descriptor page, no breakpoint
/// watches the hypervisor, and a moved vcpu_info lies in a frame of the
/// caller's held writable.
fn check_descriptor_state(world: &World, caller: xen_abi::mmu::DomId) -> Result<(), String> {
    use crate::arch::PhysicalMemory;
    use crate::mm::segment_descriptor::check_descriptor;
    let Some(domain) = world.domains.get(caller) else {
        return Ok(());
    };
    let ldt = domain.vcpu.ldt.view().pages;
    for frame in domain.vcpu.gdt_frames().into_iter().chain(ldt).flatten() {
        let info = world.frames.frame(frame).ok_or("a GDT frame beyond the frame table")?;
        if info.owner() != Some(caller) || info.page_type() != PageType::SegDesc || info.type_count() == 0 {
            return Err(format!("d{caller}'s GDT or LDT frame {frame} is {info:?}"));
        }
        for at in (0..4096).step_by(8).map(|offset| frame.address() + offset) {
            let descriptor = world.platform.memory.read_u64(at);
            if check_descriptor(descriptor) != Some(descriptor) {
                return Err(format!("d{caller}'s GDT holds descriptor {descriptor:#x} at {at:#x}"));
            }
        }
    }
    if let Some(debug) = domain.vcpu.registers_to_load().debug {
        for &address in &debug[..4] {
            if crate::mm::layout::is_hypervisor_address(address) || !crate::mm::layout::is_canonical(address) {
                return Err(format!("d{caller} would load a breakpoint on {address:#x}"));
            }
        }
    }
    if domain.vcpu_info_moved() {
        let frame = Mfn::containing(domain.vcpu_info_address());
        let info = world.frames.frame(frame).ok_or("vcpu_info beyond the frame table")?;
        if info.owner() != Some(caller) || info.page_type() != PageType::Writable || info.type_count() == 0 {
            return Err(format!("d{caller}'s vcpu_info is in {frame}, which is {info:?}"));
        }
    }
    Ok(())
}

/// What the caller returns to is ring 3 without I/O privilege, and the
/// segment bases it will have loaded are canonical (a `wrmsr` of any other
/// faults in ring 0).
fn check_registers(world: &World, caller: xen_abi::mmu::DomId) -> Result<(), String> {
    let frame = &world.frame;
    if frame.cs != 0 && (frame.cs & 3 != 3 || frame.ss & 3 != 3) {
        return Err(format!("d{caller} returns to CS {:#x} SS {:#x}", frame.cs, frame.ss));
    }
    if frame.rflags & (crate::rflags::IOPL | crate::rflags::VM) != 0 {
        return Err(format!("d{caller} returns with RFLAGS {:#x}", frame.rflags));
    }
    let Some(domain) = world.domains.get(caller) else {
        return Ok(());
    };
    let state = domain.vcpu.loadable();
    for base in [state.fs_base, state.gs_base_kernel, state.gs_base_user] {
        if !crate::mm::layout::is_canonical(base) {
            return Err(format!("d{caller} would load segment base {base:#x}"));
        }
    }
    // (0, 0) until the guest sets one.
    let (ss, _) = domain.vcpu.kernel_stack();
    if ss != 0 && ss & 3 != 3 {
        return Err(format!("d{caller}'s kernel stack selector {ss:#x} is not ring 3"));
    }
    Ok(())
}

/// The CPU walks a validated L4 of the domain on it, holding a type
/// reference, and no translation it keeps reaches further than the frame
/// table allows that domain.
fn check_cpu(world: &World) -> Result<(), String> {
    let mmu = world.platform.guest.mmu().expect("the fuzzer's CPU walks tables");
    if let Some(l4) = mmu.died_on() {
        return Err(format!("the CPU ran on {l4}, an L4 without the hypervisor's slots"));
    }
    let Some(id) = world.on_cpu else {
        return Ok(());
    };
    let cr3 = mmu.cr3();
    if base_of(&world.domains, id) != Some(cr3) {
        return Err(format!("CR3 holds {cr3}, not d{id}'s base"));
    }
    let info = world.frames.frame(cr3).ok_or("CR3 beyond the frame table")?;
    if info.page_type() != PageType::L4 || info.type_count() == 0 || !info.is_validated() || info.owner() != Some(id) {
        return Err(format!("CR3 holds {cr3}, which is {info:?}"));
    }
    let domain = world.domains.get(id).ok_or("the domain on the CPU is gone")?;
    let granted = |frame: Mfn, write: bool| {
        domain
            .maptrack
            .iter()
            .any(|entry| entry.mapping.frame == frame && (entry.mapping.writable || !write))
    };
    for (page, leaf) in mmu.tlb() {
        let info = world
            .frames
            .frame(leaf.frame)
            .ok_or("a TLB entry beyond the frame table")?;
        let own = info.owner() == Some(id);
        if !(own || granted(leaf.frame, leaf.writable)) {
            return Err(format!("TLB maps page {page:#x} to {}, not d{id}'s", leaf.frame));
        }
        if leaf.writable && info.table_level().is_some() {
            return Err(format!("TLB maps page {page:#x} writable to table {}", leaf.frame));
        }
    }
    for (level, walk) in mmu.cached_tables() {
        let info = world
            .frames
            .frame(walk.frame)
            .ok_or("a cached walk beyond the frame table")?;
        let expected = TableLevel::ALL[usize::from(level) - 1];
        if info.table_level() != Some(expected) || !info.is_validated() || info.owner() != Some(id) {
            return Err(format!("a cached walk reaches {} as an L{level}: {info:?}", walk.frame));
        }
    }
    Ok(())
}

/// Every frame written during the step is one the caller may have written
/// to: its own, a shared_info or grant frame (events and grant status), a
/// frame granted to it for writing, or one of its own that the step freed.
fn check_writes(world: &World, caller: xen_abi::mmu::DomId, report: &StepReport) -> Result<(), String> {
    let mut allowed: BTreeSet<u64> = written_grants(world, caller).iter().map(|mfn| mfn.0).collect();
    for domain in world.domains.iter() {
        allowed.insert(domain.shared_info().0);
        for frame in 0..domain.grants.frames_in_use() {
            if let Some(address) = domain.grants.entry_address(frame * 512) {
                allowed.insert(address >> 12);
            }
        }
    }
    for &frame in &report.written {
        let info = world.frames.frame(Mfn(frame));
        let owner = info.and_then(|info| info.owner());
        let freed_by_step = report.owned_at_start.contains(&frame) && info.is_some_and(|info| info.is_free());
        if owner != Some(caller) && !allowed.contains(&frame) && !freed_by_step {
            return Err(format!("d{caller}'s step wrote frame {frame:#x}, owned by {owner:?}"));
        }
    }
    Ok(())
}
