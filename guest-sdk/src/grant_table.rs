//! Grant tables, version 1 (`grant_table.h`), from both sides.
//!
//! - Granting: [`start`] sets up the domain's grant frames and maps them
//!   into the SDK's shared area; [`grant_access`] writes an entry giving a
//!   domain access to one of our frames; [`end_access`] revokes it, which
//!   fails while the grantee has it mapped (the hypervisor's READING and
//!   WRITING flags).
//! - Using another domain's grant: [`map`] maps it at the SDK's grant
//!   window (one mapping at a time), [`read_window`] reads it, [`unmap`]
//!   gives it back; [`copy`] copies without mapping.
//!
//! Entries 0-7 are reserved for the toolstack (console, xenstore); ours are
//! handed out from 8.

use crate::XenError;
use crate::hypercall::raw;
use crate::shared_area;
use crate::shared_info::{SharedMemory, SharedPage};
use core::fmt;
use spin::Mutex;
use xen_abi::grant_table::*;
use xen_abi::hypercall::GRANT_TABLE_OP;
use xen_abi::mmu::{DOMID_SELF, DomId};
use xen_abi::page_table_entry::PAGE_SIZE;
use zerocopy::{Immutable, IntoBytes};

/// Grant frames the SDK sets up (all a xen-core domain has).
pub const FRAMES: u32 = 4;
/// Entries in them.
pub const ENTRIES: u32 = FRAMES * GRANT_ENTRIES_V1_PER_FRAME;
/// Byte offset of the grant table in the shared area.
const TABLE_OFFSET: usize = shared_area::GRANT_TABLE.start * PAGE_SIZE as usize;

/// Why a grant operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantError {
    /// The hypercall itself failed.
    Xen(XenError),
    /// The operation's status (a `GNTST_*` value).
    Status(i16),
    /// The grantee still has the grant mapped: it cannot be revoked.
    InUse,
    /// Every entry is taken.
    NoFreeEntry,
    /// Not one of our entries, or not in use.
    BadReference,
    /// [`start`] has not run.
    NotStarted,
}

impl From<XenError> for GrantError {
    fn from(error: XenError) -> Self {
        GrantError::Xen(error)
    }
}

impl fmt::Display for GrantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantError::Xen(error) => write!(f, "grant_table_op failed: {error}"),
            GrantError::Status(status) => write!(f, "grant status {status} ({})", status_name(*status)),
            GrantError::InUse => write!(f, "the grant is still mapped"),
            GrantError::NoFreeEntry => write!(f, "no free grant entry"),
            GrantError::BadReference => write!(f, "not a grant of ours"),
            GrantError::NotStarted => write!(f, "grant table not set up"),
        }
    }
}

/// Xen's name for a `GNTST_*` status.
pub fn status_name(status: i16) -> &'static str {
    match status {
        GNTST_OKAY => "okay",
        GNTST_GENERAL_ERROR => "general error",
        GNTST_BAD_DOMAIN => "bad domain",
        GNTST_BAD_GNTREF => "bad grant reference",
        GNTST_BAD_HANDLE => "bad handle",
        GNTST_BAD_VIRT_ADDR => "bad virtual address",
        GNTST_BAD_DEV_ADDR => "bad device address",
        GNTST_NO_DEVICE_SPACE => "no device space",
        GNTST_PERMISSION_DENIED => "permission denied",
        GNTST_BAD_PAGE => "bad page",
        GNTST_BAD_COPY_ARG => "copy crosses a page",
        GNTST_ADDRESS_TOO_BIG => "address too big",
        GNTST_EAGAIN => "try again",
        GNTST_NO_SPACE => "no space",
        _ => "unknown",
    }
}

/// The entries of a grant table at byte `base` of some shared memory.
pub struct GrantEntries<M: SharedMemory> {
    memory: M,
    base: usize,
}

impl<M: SharedMemory> GrantEntries<M> {
    /// The entries at `base`.
    pub const fn new(memory: M, base: usize) -> Self {
        GrantEntries { memory, base }
    }

    fn offset(&self, gref: u32) -> Result<usize, GrantError> {
        if gref >= ENTRIES {
            return Err(GrantError::BadReference);
        }
        Ok(self.base + gref as usize * 8)
    }

    /// Grants `domid` access to machine frame `frame` in entry `gref`, which
    /// must be unused: domain and frame and flags in one atomic store, so
    /// the hypervisor never sees half an entry.
    pub fn write(&self, gref: u32, domid: DomId, frame: u64, read_only: bool) -> Result<(), GrantError> {
        let offset = self.offset(gref)?;
        let frame = u32::try_from(frame).map_err(|_| GrantError::BadReference)?;
        let mut flags = GrantFlags::PERMIT_ACCESS;
        if read_only {
            flags |= GrantFlags::READONLY;
        }
        let entry: u64 = zerocopy::transmute!(GrantEntryV1 {
            flags: flags.bits(),
            domid,
            frame,
        });
        self.memory
            .compare_exchange(offset, 0, entry)
            .map(drop)
            .map_err(|_| GrantError::InUse)
    }

    /// Revokes entry `gref` unless the grantee has it mapped: one
    /// compare-and-swap to 0, which the hypervisor's own (setting READING
    /// or WRITING) cannot interleave with.
    pub fn revoke(&self, gref: u32) -> Result<(), GrantError> {
        let offset = self.offset(gref)?;
        let busy = u64::from((GrantFlags::READING | GrantFlags::WRITING).bits());
        loop {
            let entry = self.memory.load(offset);
            if entry & busy != 0 {
                return Err(GrantError::InUse);
            }
            if self.memory.compare_exchange(offset, entry, 0).is_ok() {
                return Ok(());
            }
        }
    }

    /// The flags of entry `gref`.
    pub fn flags(&self, gref: u32) -> Result<GrantFlags, GrantError> {
        Ok(GrantFlags::from_bits_retain(self.memory.load(self.offset(gref)?) as u16))
    }
}

/// Which entries are ours to hand out.
pub struct FreeEntries {
    used: [u64; ENTRIES as usize / 64],
}

impl FreeEntries {
    /// None used but the reserved ones.
    pub const fn new() -> Self {
        let mut used = [0; ENTRIES as usize / 64];
        used[0] = (1 << GNTTAB_NR_RESERVED_ENTRIES) - 1;
        FreeEntries { used }
    }

    /// Takes the lowest free entry.
    pub fn take(&mut self) -> Option<u32> {
        let (word, bits) = self.used.iter_mut().enumerate().find(|(_, bits)| **bits != u64::MAX)?;
        let bit = bits.trailing_ones();
        *bits |= 1 << bit;
        Some(word as u32 * 64 + bit)
    }

    /// Gives entry `gref` back; whether it was taken (and not reserved).
    pub fn give_back(&mut self, gref: u32) -> bool {
        if !(GNTTAB_NR_RESERVED_ENTRIES..ENTRIES).contains(&gref) {
            return false;
        }
        let (word, bit) = ((gref / 64) as usize, gref % 64);
        let was = self.used[word] & 1 << bit != 0;
        self.used[word] &= !(1 << bit);
        was
    }
}

impl Default for FreeEntries {
    fn default() -> Self {
        Self::new()
    }
}

/// The SDK's grant state: set up or not, and the free entries.
struct Grants {
    started: bool,
    free: FreeEntries,
}

static GRANTS: Mutex<Grants> = Mutex::new(Grants {
    started: false,
    free: FreeEntries::new(),
});

/// Our grant table, in the shared area.
const TABLE: GrantEntries<SharedPage> = GrantEntries::new(SharedPage, TABLE_OFFSET);

/// Runs `grant_table_op(command, op, 1)`.
fn op<T: IntoBytes + Immutable>(command: u32, op: &mut T) -> Result<(), XenError> {
    let address = op as *mut T as u64;
    XenError::check(raw(GRANT_TABLE_OP, [u64::from(command), address, 1, 0, 0])).map(drop)
}

/// Sets up the grant frames and maps them into the shared area.
pub fn start() -> Result<(), GrantError> {
    let mut frames = [0u64; FRAMES as usize];
    let mut setup = GnttabSetupTable {
        dom: DOMID_SELF,
        nr_frames: FRAMES,
        frame_list: frames.as_mut_ptr() as u64,
        ..Default::default()
    };
    op(GNTTABOP_SETUP_TABLE, &mut setup)?;
    if setup.status != GNTST_OKAY {
        return Err(GrantError::Status(setup.status));
    }
    for (page, mfn) in shared_area::GRANT_TABLE.zip(frames) {
        shared_area::map_frame(page, mfn)?;
    }
    GRANTS.lock().started = true;
    Ok(())
}

/// Grants `domid` access to our machine frame `frame`; the reference to
/// tell it.
pub fn grant_access(domid: DomId, frame: u64, read_only: bool) -> Result<u32, GrantError> {
    let mut grants = GRANTS.lock();
    if !grants.started {
        return Err(GrantError::NotStarted);
    }
    let gref = grants.free.take().ok_or(GrantError::NoFreeEntry)?;
    if let Err(error) = TABLE.write(gref, domid, frame, read_only) {
        grants.free.give_back(gref);
        return Err(error);
    }
    Ok(gref)
}

/// Revokes grant `gref`: [`GrantError::InUse`] while the grantee has it
/// mapped (try again after it unmaps); on success the entry is free again.
pub fn end_access(gref: u32) -> Result<(), GrantError> {
    let mut grants = GRANTS.lock();
    if gref < GNTTAB_NR_RESERVED_ENTRIES {
        return Err(GrantError::BadReference);
    }
    TABLE.revoke(gref)?;
    grants.free.give_back(gref);
    Ok(())
}

/// The flags of our entry `gref` (READING/WRITING show it is mapped).
pub fn entry_flags(gref: u32) -> Result<GrantFlags, GrantError> {
    TABLE.flags(gref)
}

/// A grant of another domain's, mapped at the grant window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The handle to unmap it with.
    pub handle: u32,
    /// Where it is mapped.
    pub va: u64,
}

/// Windows for other domains' frames.
pub const WINDOWS: usize = shared_area::WINDOWS.end - shared_area::WINDOWS.start;

/// Maps grant `gref` of domain `dom` at grant window 0.
pub fn map(dom: DomId, gref: u32, read_only: bool) -> Result<Mapping, GrantError> {
    map_in_window(0, dom, gref, read_only)
}

/// Maps grant `gref` of domain `dom` at grant window `window` (below
/// [`WINDOWS`]), which holds one mapping at a time.
pub fn map_in_window(window: usize, dom: DomId, gref: u32, read_only: bool) -> Result<Mapping, GrantError> {
    if window >= WINDOWS {
        return Err(GrantError::BadReference);
    }
    map_at(
        dom,
        gref,
        read_only,
        shared_area::address(shared_area::WINDOWS.start + window),
    )
}

/// Maps grant `gref` of domain `dom` at `va`, whose page must have an L1
/// entry (what was mapped there is replaced).
pub fn map_at(dom: DomId, gref: u32, read_only: bool, va: u64) -> Result<Mapping, GrantError> {
    let mut flags = GntmapFlags::HOST_MAP;
    if read_only {
        flags |= GntmapFlags::READONLY;
    }
    let mut request = GnttabMapGrantRef {
        host_addr: va,
        flags: flags.bits(),
        gref,
        dom,
        ..Default::default()
    };
    op(GNTTABOP_MAP_GRANT_REF, &mut request)?;
    if request.status != GNTST_OKAY {
        return Err(GrantError::Status(request.status));
    }
    Ok(Mapping {
        handle: request.handle,
        va,
    })
}

/// Unmaps `mapping`; the page it was at is left unmapped.
pub fn unmap(mapping: Mapping) -> Result<(), GrantError> {
    let mut request = GnttabUnmapGrantRef {
        host_addr: mapping.va,
        handle: mapping.handle,
        ..Default::default()
    };
    op(GNTTABOP_UNMAP_GRANT_REF, &mut request)?;
    if request.status != GNTST_OKAY {
        return Err(GrantError::Status(request.status));
    }
    Ok(())
}

/// Reads `out.len()` bytes at `offset` of the page mapped at grant window
/// 0 (another domain writes it: read word by word, atomically).
pub fn read_window(offset: usize, out: &mut [u8]) {
    read_in_window(0, offset, out)
}

/// Reads `out.len()` bytes at `offset` of the page mapped at grant window
/// `window` (outside the window, reads give nothing).
pub fn read_in_window(window: usize, offset: usize, out: &mut [u8]) {
    if window >= WINDOWS || offset + out.len() > PAGE_SIZE as usize {
        return;
    }
    let window = (shared_area::WINDOWS.start + window) * PAGE_SIZE as usize;
    for (index, byte) in out.iter_mut().enumerate() {
        let at = window + offset + index;
        let word = SharedPage.load(at & !7);
        *byte = (word >> ((at & 7) * 8)) as u8;
    }
}

/// Runs `copies` (`GNTTABOP_copy`); each entry's `status` says how it went.
pub fn copy(copies: &mut [GnttabCopy]) -> Result<(), XenError> {
    XenError::check(raw(
        GRANT_TABLE_OP,
        [
            u64::from(GNTTABOP_COPY),
            copies.as_mut_ptr() as u64,
            copies.len() as u64,
            0,
            0,
        ],
    ))
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_info::tests::FakePage;

    #[test]
    fn entries_are_written_whole_and_revoked_only_when_not_in_use() {
        let page = FakePage::new();
        let table = GrantEntries::new(&page, 0);
        table.write(8, 3, 0x1234, true).unwrap();
        let entry = (&page).load(64);
        assert_eq!(
            entry,
            u64::from((GrantFlags::PERMIT_ACCESS | GrantFlags::READONLY).bits()) | 3 << 16 | 0x1234 << 32
        );
        assert_eq!(
            table.write(8, 3, 0x99, false),
            Err(GrantError::InUse),
            "an entry in use is not overwritten"
        );
        // The hypervisor marks it mapped: revocation fails, and works after.
        (&page).fetch_or(64, u64::from(GrantFlags::READING.bits()));
        assert_eq!(table.revoke(8), Err(GrantError::InUse));
        (&page).fetch_and(64, !u64::from(GrantFlags::READING.bits()));
        table.revoke(8).unwrap();
        assert_eq!((&page).load(64), 0);
        assert_eq!(table.write(ENTRIES, 3, 1, false), Err(GrantError::BadReference));
        assert_eq!(
            table.write(9, 3, 1 << 40, false),
            Err(GrantError::BadReference),
            "frame beyond 32 bits"
        );
    }

    #[test]
    fn free_entries_start_after_the_reserved_ones_and_come_back() {
        let mut free = FreeEntries::new();
        assert_eq!(free.take(), Some(8));
        assert_eq!(free.take(), Some(9));
        assert!(free.give_back(8));
        assert!(!free.give_back(8), "already free");
        assert!(!free.give_back(1), "reserved");
        assert_eq!(free.take(), Some(8));
        let mut taken = 2;
        while free.take().is_some() {
            taken += 1;
        }
        assert_eq!(taken, ENTRIES - 8);
    }
}
