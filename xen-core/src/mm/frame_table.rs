//! The frame table: PV MMU state for machine frames `0..N`.
//!
//! Storage is a caller-provided `&mut [FrameInfo]` with one element per frame:
//! the crate has no allocator, a const-generic array would put the size of
//! physical memory into the type, and the kernel carves the slice out of boot
//! memory once it knows how many frames exist (host tests use a `Vec`). Every
//! frame number a guest supplies is range-checked against the slice before any
//! state is touched (XSA-167).
//!
//! All operations take `&mut self`, so one CPU at a time changes the table;
//! the kernel wraps it in a lock. The methods live next to what they implement:
//! general references in `page_ref`, typed ones in `typed_ref`, validation in
//! `promote` and `demote`, entry rules in `entry_refs` and `mod_entry`, pins in
//! `pin`, base pointers in `base_pointer`, teardown in `domain_teardown`, the
//! checker in `invariants`.

use super::Mfn;
use super::frame_info::FrameInfo;
use super::job::{Job, MAX_JOBS};
use super::l1tf::L1tfPolicy;
use super::page_type::TableLevel;
use super::pte_rules::HYPERVISOR_L4_SLOTS;
use heapless::Vec;
use xen_abi::domain_builder::MAX_DOMAINS;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

/// Per-frame reference counts, types and ownership.
pub struct FrameTable<'f> {
    /// One element per machine frame: private, so that the rest of `mm`
    /// reaches a frame only through [`FrameTable::frame_mut`], which checks
    /// the frame number against the table.
    frames: &'f mut [FrameInfo],
    /// What slots 256–271 of every validated L4 hold.
    pub(super) hypervisor_slots: [u64; HYPERVISOR_L4_SLOTS],
    /// A frame became a page table since the last [`FrameTable::take_flush_request`].
    pub(super) flush_requested: bool,
    /// Grant mappings dropped with their page table since the last
    /// [`FrameTable::take_implicit_grant_unmaps`].
    pub(super) implicit_grant_unmaps: u32,
    /// Frames of destroyed domains that became free since the last
    /// [`FrameTable::take_freed_orphans`].
    pub(super) freed_orphans: Vec<Mfn, ORPHAN_QUEUE>,
    /// Such frames that did not fit the queue (never given back).
    pub(super) lost_orphans: u64,
    /// Which non-present entries guests may write.
    pub(super) l1tf: L1tfPolicy,
    /// Page-table work kept between hypercall invocations.
    pub(super) jobs: Vec<Job, MAX_JOBS>,
    /// Frames each domain owns (Xen's `tot_pages`), by domain id: counted
    /// where a frame gets its owner ([`FrameTable::assign`]) and where it
    /// becomes free, so it never drifts from the table.
    pub(super) owned: [u64; MAX_DOMAINS],
}

/// Frames of destroyed domains that may be queued between two drains: at
/// least what one domain may hold mapped from others (its maptrack), so a
/// burst of unmaps between two scheduling passes fits.
pub const ORPHAN_QUEUE: usize = 256;

impl<'f> FrameTable<'f> {
    /// A table over `frames` (one per machine frame, all reset to free) whose
    /// validated L4s get `hypervisor_slots` in slots 256–271.
    pub fn new(frames: &'f mut [FrameInfo], hypervisor_slots: [u64; HYPERVISOR_L4_SLOTS]) -> Self {
        frames.fill(FrameInfo::FREE);
        let l1tf = L1tfPolicy::new(frames.len() as u64, 52);
        FrameTable {
            frames,
            hypervisor_slots,
            flush_requested: false,
            implicit_grant_unmaps: 0,
            l1tf,
            jobs: Vec::new(),
            freed_orphans: Vec::new(),
            lost_orphans: 0,
            owned: [0; MAX_DOMAINS],
        }
    }

    /// Tells the table how many physical address bits the CPU has (CPUID
    /// 0x80000008), which decides the non-present entries that are safe
    /// from L1TF (see `l1tf`); until then all 52 are assumed.
    pub fn set_physical_address_bits(&mut self, bits: u8) {
        self.l1tf = L1tfPolicy::new(self.frames.len() as u64, bits);
    }

    /// Number of frames covered.
    pub fn frame_count(&self) -> u64 {
        self.frames.len() as u64
    }

    /// The state of every frame, by frame number.
    pub fn frames(&self) -> &[FrameInfo] {
        self.frames
    }

    /// The state of frame `mfn`, or `None` beyond the table.
    pub fn frame(&self, mfn: Mfn) -> Option<&FrameInfo> {
        usize::try_from(mfn.0).ok().and_then(|index| self.frames.get(index))
    }

    /// The state of frame `mfn` for changing, or `None` beyond the table.
    pub(super) fn frame_mut(&mut self, mfn: Mfn) -> Option<&mut FrameInfo> {
        usize::try_from(mfn.0).ok().and_then(|index| self.frames.get_mut(index))
    }

    /// Gives free frame `mfn` to `owner`, holding its allocation reference.
    /// -EINVAL beyond the table, -EBUSY if the frame is not free.
    pub fn assign(&mut self, mfn: Mfn, owner: DomId) -> Result<(), Errno> {
        let frame = self.frame_mut(mfn).ok_or(Errno::EINVAL)?;
        if !frame.is_free() {
            return Err(Errno::EBUSY);
        }
        *frame = FrameInfo {
            owner: Some(owner),
            count: 1,
            allocated: true,
            ..FrameInfo::FREE
        };
        if let Some(owned) = self.owned.get_mut(usize::from(owner)) {
            *owned += 1;
        }
        Ok(())
    }

    /// Gives free frame `mfn` to `owner` as a hypervisor page shared with it
    /// (shared_info, a grant frame): owned and referenced like its own, but
    /// not counted in its reservation ([`FrameTable::owned_by`]) nor its to
    /// give back, as Xen's xenheap pages. Errors as [`FrameTable::assign`].
    pub fn assign_shared_xen_page(&mut self, mfn: Mfn, owner: DomId) -> Result<(), Errno> {
        self.assign(mfn, owner)?;
        self.count_freed(owner);
        if let Some(frame) = self.frame_mut(mfn) {
            frame.shared_xen_page = true;
        }
        Ok(())
    }

    /// Frames `owner` owns now, free ones excluded (`XENMEM_current_
    /// reservation`). Frames it gave up that are still referenced count
    /// until they are free, as on Xen.
    pub fn owned_by(&self, owner: DomId) -> u64 {
        self.owned.get(usize::from(owner)).copied().unwrap_or(0)
    }

    /// A frame of `owner` became free.
    pub(super) fn count_freed(&mut self, owner: DomId) {
        if let Some(owned) = self.owned.get_mut(usize::from(owner)) {
            *owned = owned.saturating_sub(1);
        }
    }

    /// The level of `mfn` if it is a validated page table in use, which is
    /// what `mmu_update` asks before editing an entry in it (otherwise the
    /// write needs a writable reference instead).
    #[inline]
    pub fn page_table_level(&self, mfn: Mfn) -> Option<TableLevel> {
        self.frame(mfn)?.table_level()
    }

    /// Whether a frame became a page table since the last call; clears the
    /// request. A guest may still hold a writable TLB entry for a frame whose
    /// last writable mapping just went, so the caller flushes the owner's
    /// TLBs before the guest runs again (Xen filters with timestamps instead).
    pub fn take_flush_request(&mut self) -> bool {
        core::mem::take(&mut self.flush_requested)
    }

    /// How many grant mappings went with a page table (unpinned, replaced
    /// higher up, or torn down) since the last call; clears the count. Their
    /// references are dropped like any mapping's, but the grant stays in
    /// use until `unmap_grant_ref`, which can no longer find it: Xen crashes
    /// a domain that does this, and so does the hypercall layer.
    pub fn take_implicit_grant_unmaps(&mut self) -> u32 {
        core::mem::take(&mut self.implicit_grant_unmaps)
    }

    /// Queues a destroyed domain's frame that just became free.
    pub(super) fn queue_orphan(&mut self, mfn: Mfn) {
        if self.freed_orphans.push(mfn).is_err() {
            self.lost_orphans += 1;
        }
    }

    /// Takes the frames of destroyed domains that became free after their
    /// domain was gone (the last mapping of another domain went): the
    /// caller returns them to its allocator, as the teardown's own frees.
    pub fn take_freed_orphans(&mut self) -> impl Iterator<Item = Mfn> + '_ {
        self.freed_orphans.drain(..)
    }

    /// Whether any such frame waits to be taken.
    #[inline]
    pub fn has_freed_orphans(&self) -> bool {
        !self.freed_orphans.is_empty()
    }

    /// Orphaned frames that became free while the queue was full, and so
    /// were never given back (a drain per scheduling pass keeps it empty).
    pub fn lost_orphans(&self) -> u64 {
        self.lost_orphans
    }
}
