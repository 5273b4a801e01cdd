//! One domain's grant table: its grant frames, and the grants of it that
//! others have mapped.

use crate::arch::PhysicalMemory;
use crate::mm::{Mfn, TypedRef};
use heapless::Vec;
use heapless::index_map::FnvIndexMap;
use xen_abi::grant_table::{GNTST_GENERAL_ERROR, GNTST_NO_SPACE, GRANT_ENTRIES_V1_PER_FRAME, GrantFlags};
use xen_abi::mmu::DomId;

/// Grant frames a domain may have: Xen's default `max_grant_frames`, 64
/// frames of 512 version-1 entries.
pub const MAX_GRANT_FRAMES: usize = 64;
/// Frames a table starts with, as on Xen (`INITIAL_NR_GRANT_FRAMES`); it
/// grows when the domain sets up more.
pub const INITIAL_GRANT_FRAMES: usize = 1;
/// Version 1 entries per 4 KiB frame.
pub const ENTRIES_PER_FRAME: u32 = GRANT_ENTRIES_V1_PER_FRAME;
/// Grants of one domain that may be mapped at once.
pub const MAX_ACTIVE: usize = 256;
/// Tries at marking an entry in use before calling it unstable: each
/// failure means the granter changed it meanwhile.
const CAS_TRIES: usize = 4;

/// A grant in use: which frame it maps (fixed when first mapped, whatever
/// the granter writes afterwards) and how many mappings of each kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActiveGrant {
    /// The granted frame.
    pub frame: Mfn,
    /// Read-only mappings.
    pub readers: u32,
    /// Writable mappings.
    pub writers: u32,
}

/// What a valid entry grants to a domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Granted {
    /// The frame.
    pub frame: Mfn,
    /// Whether the granter allows writes.
    pub writable: bool,
}

/// A domain's grant frames and active grants.
#[derive(Debug, Default)]
pub struct GrantTable {
    /// The table's frames, each with the writable type reference that keeps
    /// it from becoming a page table: the builder's first, then those it
    /// grew by.
    frames: Vec<TypedRef, MAX_GRANT_FRAMES>,
    /// Mapped grants, by reference.
    active: FnvIndexMap<u32, ActiveGrant, MAX_ACTIVE>,
}

impl GrantTable {
    /// Adds a grant frame (the builder's, or one the table grows by); gives
    /// it back if there are [`MAX_GRANT_FRAMES`] already.
    pub fn add_frame(&mut self, frame: TypedRef) -> Result<(), TypedRef> {
        self.frames.push(frame)
    }

    /// Takes back every frame's reference, for the domain's teardown.
    pub fn take_frames(&mut self) -> impl Iterator<Item = TypedRef> + '_ {
        self.frames.drain(..)
    }

    /// Frames the table may grow to (`max_grant_frames`).
    pub fn max_frames(&self) -> u32 {
        MAX_GRANT_FRAMES as u32
    }

    /// Frames it has now (`query_size`'s `nr_frames`).
    pub fn frames_in_use(&self) -> u32 {
        self.frames.len() as u32
    }

    /// The machine frames of its first `count` frames; `None` if it has
    /// fewer (the caller grows it first, up to [`GrantTable::max_frames`]).
    pub fn setup(&mut self, count: u32) -> Option<impl Iterator<Item = Mfn> + '_> {
        if count > self.frames_in_use() {
            return None;
        }
        Some(self.frames.iter().take(count as usize).map(TypedRef::mfn))
    }

    /// The machine address of entry `gref`, if the table has it.
    pub fn entry_address(&self, gref: u32) -> Option<u64> {
        let frame = self.frames.get((gref / ENTRIES_PER_FRAME) as usize)?;
        Some(frame.mfn().address() + u64::from(gref % ENTRIES_PER_FRAME) * 8)
    }

    /// The active record of `gref`, if it is mapped.
    pub fn active(&self, gref: u32) -> Option<&ActiveGrant> {
        self.active.get(&gref)
    }

    /// Reads entry `gref` for `grantee`: it must grant access (type
    /// permit_access) to exactly that domain, and allow writes if `write`.
    /// GNTST_general_error otherwise, as Xen answers.
    pub fn check(&self, memory: &impl PhysicalMemory, gref: u32, grantee: DomId, write: bool) -> Result<Granted, i16> {
        let address = self.entry_address(gref).ok_or(xen_abi::grant_table::GNTST_BAD_GNTREF)?;
        let granted = parse(memory.read_u64(address), grantee, write)?;
        Ok(granted)
    }

    /// Marks `gref` in use by a mapping of `grantee` (READING, and WRITING
    /// if `write`) and counts it; the frame to map. The frame of a grant
    /// already in use stays the one first mapped.
    pub fn pin(
        &mut self,
        memory: &mut impl PhysicalMemory,
        gref: u32,
        grantee: DomId,
        write: bool,
    ) -> Result<Mfn, i16> {
        let address = self.entry_address(gref).ok_or(xen_abi::grant_table::GNTST_BAD_GNTREF)?;
        if self.active.get(&gref).is_none() && self.active.len() == MAX_ACTIVE {
            return Err(GNTST_NO_SPACE);
        }
        let mut in_use = GrantFlags::READING.bits();
        if write {
            in_use |= GrantFlags::WRITING.bits();
        }
        let mut granted = None;
        for _ in 0..CAS_TRIES {
            let entry = memory.read_u64(address);
            let checked = parse(entry, grantee, write)?;
            if memory
                .compare_exchange_u64(address, entry, entry | u64::from(in_use))
                .is_ok()
            {
                granted = Some(checked);
                break;
            }
        }
        // The granter kept changing it: an unstable entry, as Xen says.
        let granted = granted.ok_or(GNTST_GENERAL_ERROR)?;
        let active = match self.active.get_mut(&gref) {
            Some(active) => active,
            None => {
                let fresh = ActiveGrant {
                    frame: granted.frame,
                    readers: 0,
                    writers: 0,
                };
                // Room was checked above.
                let _ = self.active.insert(gref, fresh);
                self.active.get_mut(&gref).ok_or(GNTST_GENERAL_ERROR)?
            }
        };
        if write {
            active.writers += 1;
        } else {
            active.readers += 1;
        }
        Ok(active.frame)
    }

    /// Undoes one [`GrantTable::pin`]: clears WRITING with the last
    /// writable mapping and READING with the last mapping, when the granter
    /// may revoke the entry again.
    pub fn unpin(&mut self, memory: &mut impl PhysicalMemory, gref: u32, write: bool) {
        let Some(active) = self.active.get_mut(&gref) else {
            return;
        };
        let count = if write {
            &mut active.writers
        } else {
            &mut active.readers
        };
        *count = count.saturating_sub(1);
        let mut clear = 0;
        if active.writers == 0 {
            clear |= GrantFlags::WRITING.bits();
        }
        if active.writers == 0 && active.readers == 0 {
            clear |= GrantFlags::READING.bits();
            self.active.remove(&gref);
        }
        if let Some(address) = self.entry_address(gref) {
            memory.fetch_and_u64(address, !u64::from(clear));
        }
    }
}

/// What entry word `entry` grants `grantee`.
fn parse(entry: u64, grantee: DomId, write: bool) -> Result<Granted, i16> {
    let flags = GrantFlags::from_bits_retain(entry as u16);
    let domid = (entry >> 16) as u16;
    let permits = flags & GrantFlags::TYPE_MASK == GrantFlags::PERMIT_ACCESS;
    let read_only = flags.contains(GrantFlags::READONLY);
    if !permits || domid != grantee || (write && read_only) {
        return Err(GNTST_GENERAL_ERROR);
    }
    Ok(Granted {
        frame: Mfn(entry >> 32),
        writable: !read_only,
    })
}
