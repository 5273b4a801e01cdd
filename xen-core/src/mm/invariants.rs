//! The invariant checker: recounts every reference from the
//! entries of validated tables and compares with the frame table.
//!
//! Checked for every frame: a free frame holds nothing; types exist only while
//! counted; tables in use are validated; general count = allocation + pin +
//! entries + handles; type count = entries holding that type + pin + typed
//! handles; every entry's typed reference matches the frame's type, so no
//! frame is both a page table and writable-mapped; every present entry of a
//! validated table points at an owned frame (L2–L4: of the table's owner),
//! carries only allowed flags and is in installed form; validated L4s hold the
//! hypervisor slots. It needs no allocator: targets are recounted in chunks of
//! `CHUNK` frames, one scan of the validated tables per chunk, so a check
//! costs (N / 64) × tables × 512 entry reads: a debugging and test tool.

use super::Mfn;
use super::frame_info::FrameInfo;
use super::frame_table::FrameTable;
use super::layout::FIRST_HYPERVISOR_L4_SLOT;
use super::page_type::{PageType, TableLevel};
use super::pte_rules::{
    ENTRIES_PER_TABLE, GNTTAB, RW, adjust_entry, check_entry_flags, entry_address, entry_mfn, is_grant_mapping,
    is_guest_slot, is_present,
};
use crate::arch::PhysicalMemory;
use core::fmt;

/// Frames recounted per scan of the tables.
const CHUNK: usize = 64;

/// A broken invariant: which frame, which rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvariantViolation {
    /// The frame where the rule fails (a table for entry rules).
    pub mfn: Mfn,
    /// The rule.
    pub rule: &'static str,
}

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.mfn, self.rule)
    }
}

/// References the entries of validated tables hold on one frame.
#[derive(Clone, Copy, Default)]
struct Held {
    general: u64,
    typed: u64,
}

/// Entries of a table that hold references: all of a validated table's,
/// or a range of one a kept job is validating or releasing.
#[derive(Clone)]
struct Holding {
    table: Mfn,
    level: TableLevel,
    entries: core::ops::Range<usize>,
    /// A validated table in use (its hypervisor slots are checked too).
    whole: bool,
}

/// The references kept jobs hold on their tables themselves, per frame:
/// at most four tables a job.
type JobRefs = heapless::Vec<(Mfn, Held), { 4 * super::job::MAX_JOBS }>;

impl FrameTable<'_> {
    /// Checks every invariant; returns the first violation found.
    pub fn check_invariants(&self, memory: &impl PhysicalMemory) -> Result<(), InvariantViolation> {
        let mut owned = self.owned;
        for frame in self.frames() {
            let counted = frame.owner.filter(|_| !frame.shared_xen_page);
            if let Some(slot) = counted.and_then(|owner| owned.get_mut(usize::from(owner))) {
                *slot = slot.wrapping_sub(1);
            }
        }
        if let Some(owner) = owned.iter().position(|&left| left != 0) {
            return Err(InvariantViolation {
                mfn: Mfn(owner as u64),
                rule: "a domain's count of frames differs from the frames it owns (mfn: the domain)",
            });
        }
        let (job_tables, job_refs) = self.job_holdings();
        for (index, frame) in self.frames().iter().enumerate() {
            let mfn = Mfn(index as u64);
            let in_job = job_tables.iter().any(|holding| holding.table == mfn);
            check_frame(frame, in_job).map_err(|rule| InvariantViolation { mfn, rule })?;
        }
        for chunk_start in (0..self.frames().len()).step_by(CHUNK) {
            let mut held = [Held::default(); CHUNK];
            for (index, frame) in self.frames().iter().enumerate() {
                if let Some(level) = validated_table(frame) {
                    let holding = Holding {
                        table: Mfn(index as u64),
                        level,
                        entries: 0..ENTRIES_PER_TABLE,
                        whole: true,
                    };
                    self.check_table(memory, &holding, frame, chunk_start, &mut held)?;
                }
            }
            for holding in &job_tables {
                let frame = self.frame(holding.table).copied().unwrap_or(FrameInfo::FREE);
                self.check_table(memory, holding, &frame, chunk_start, &mut held)?;
            }
            for (mfn, refs) in &job_refs {
                if let Some(slot) = usize::try_from(mfn.0)
                    .ok()
                    .and_then(|mfn| mfn.checked_sub(chunk_start))
                    .and_then(|offset| held.get_mut(offset))
                {
                    slot.general += refs.general;
                    slot.typed += refs.typed;
                }
            }
            let frames = self.frames().iter().enumerate().skip(chunk_start).take(CHUNK);
            for ((index, frame), held) in frames.zip(held.iter()) {
                let violation = |rule| InvariantViolation {
                    mfn: Mfn(index as u64),
                    rule,
                };
                let expected_count =
                    u64::from(frame.allocated) + u64::from(frame.pinned) + held.general + u64::from(frame.handle_refs);
                if u64::from(frame.count) != expected_count {
                    return Err(violation("general count differs from the references held"));
                }
                let expected_type = held.typed + u64::from(frame.pinned) + u64::from(frame.handle_type_refs);
                if u64::from(frame.type_count) != expected_type {
                    return Err(violation("type count differs from the typed references held"));
                }
            }
        }
        Ok(())
    }

    /// The tables kept jobs hold entries of, and the references the jobs
    /// hold on those tables themselves: a validation holds its root's typed
    /// reference and a general one, and each table's entries before its
    /// scan point (and the entry of the child above it on the stack); a
    /// release holds each table's entries from its scan point on and a
    /// general reference on each table (a typed one too on a table whose
    /// validation was given up).
    fn job_holdings(&self) -> (heapless::Vec<Holding, { 4 * super::job::MAX_JOBS }>, JobRefs) {
        let mut tables = heapless::Vec::new();
        let mut refs = JobRefs::new();
        let add = |refs: &mut JobRefs, mfn: Mfn, general: u64, typed: u64| {
            if let Some((_, held)) = refs.iter_mut().find(|(at, _)| *at == mfn) {
                held.general += general;
                held.typed += typed;
            } else {
                let _ = refs.push((mfn, Held { general, typed }));
            }
        };
        for (validating, releasing) in self.kept_stacks() {
            for pending in validating.into_iter().flatten() {
                let _ = tables.push(Holding {
                    table: pending.mfn,
                    level: pending.level,
                    entries: 0..pending.next,
                    whole: false,
                });
                // The root's references are the job's; a child's, its
                // parent's entry under way.
                add(&mut refs, pending.mfn, 1, 1);
            }
            for release in releasing.into_iter().flatten() {
                let _ = tables.push(Holding {
                    table: release.mfn,
                    level: release.level,
                    entries: release.next..release.end,
                    whole: false,
                });
                let abandoned = release.finish == super::release_stack::Finish::Abandoned;
                add(&mut refs, release.mfn, 1, u64::from(abandoned));
            }
        }
        (tables, refs)
    }

    /// Checks and counts the entries of `holding` whose targets lie in
    /// `[chunk_start, chunk_start + CHUNK)`.
    fn check_table(
        &self,
        memory: &impl PhysicalMemory,
        holding: &Holding,
        info: &FrameInfo,
        chunk_start: usize,
        held: &mut [Held; CHUNK],
    ) -> Result<(), InvariantViolation> {
        let (table, level) = (holding.table, holding.level);
        let violation = |rule| InvariantViolation { mfn: table, rule };
        for index in holding.entries.clone() {
            let entry = memory.read_u64(entry_address(table, index));
            if !is_guest_slot(level, index) {
                let slot = index - FIRST_HYPERVISOR_L4_SLOT;
                if holding.whole && chunk_start == 0 && self.hypervisor_slots.get(slot) != Some(&entry) {
                    return Err(violation("hypervisor L4 slot differs from the hypervisor's entry"));
                }
                continue;
            }
            if !is_present(entry) {
                if chunk_start == 0 && self.l1tf.check_not_present(entry, level).is_err() {
                    return Err(violation("non-present entry names memory (L1TF)"));
                }
                continue;
            }
            if chunk_start == 0 {
                // The grant bit is the hypervisor's own, in L1 entries only.
                let guest_part = if level == TableLevel::L1 && is_grant_mapping(entry) {
                    entry & !GNTTAB
                } else {
                    entry
                };
                if check_entry_flags(guest_part, level).is_err() {
                    return Err(violation("entry has disallowed flags"));
                }
                if adjust_entry(entry, level) != entry {
                    return Err(violation("entry is not in installed form"));
                }
            }
            let target = entry_mfn(entry);
            let Some(target_info) = self.frame(target) else {
                return Err(violation("entry points beyond the frame table"));
            };
            let expected_type = match level.lower() {
                None if entry & RW != 0 => Some(PageType::Writable),
                None => None,
                Some(lower) => Some(lower.page_type()),
            };
            if target_info.owner.is_none() {
                return Err(violation("entry points at a free frame"));
            }
            if level != TableLevel::L1 && target_info.owner != info.owner {
                return Err(violation("upper entry points at another domain's frame"));
            }
            if let Some(page_type) = expected_type
                && target_info.page_type != page_type
            {
                return Err(violation("entry's typed reference does not match the target's type"));
            }
            let Some(slot) = usize::try_from(target.0)
                .ok()
                .and_then(|target| target.checked_sub(chunk_start))
                .and_then(|offset| held.get_mut(offset))
            else {
                continue;
            };
            slot.general += 1;
            slot.typed += u64::from(expected_type.is_some());
        }
        Ok(())
    }
}

/// The level of a table whose entries hold references.
fn validated_table(frame: &FrameInfo) -> Option<TableLevel> {
    (frame.type_count > 0 && frame.validated)
        .then_some(frame.page_type.table_level())
        .flatten()
}

/// The rules one frame's state must follow on its own; `in_job` says a
/// kept job is validating or releasing it.
fn check_frame(frame: &FrameInfo, in_job: bool) -> Result<(), &'static str> {
    if frame.owner.is_none() && *frame != FrameInfo::FREE {
        return Err("a frame without owner holds state");
    }
    if frame.owner.is_some() && frame.count == 0 {
        return Err("an owned frame has no reference");
    }
    if frame.releasing && (!in_job || frame.type_count > 0 || frame.page_type.table_level().is_none()) {
        return Err("a table is marked releasing with no release under way");
    }
    if frame.type_count == 0
        && (frame.validated || frame.pinned || (frame.page_type != PageType::None && !frame.releasing))
    {
        return Err("a frame without typed references keeps a type");
    }
    if frame.type_count > 0 && frame.page_type == PageType::None {
        return Err("typed references without a type");
    }
    if frame.type_count > 0 && !frame.validated && !in_job {
        return Err("a type in use is not validated");
    }
    if frame.pinned && frame.page_type.table_level().is_none() {
        return Err("a pinned frame is not a page table");
    }
    if frame.handle_type_refs > frame.handle_refs {
        return Err("typed handles without general references");
    }
    Ok(())
}
