//! The PV domain builder: from a checked guest image to a domain ready to
//! run its first instruction, laid out exactly as Xen's builder would.
//!
//! In order: lay out the bootstrap region ([`BootLayout`]); allocate every
//! page of the domain, p2m list first so each page's entry can be written as
//! it is allocated; record each frame in the M2P; copy the image's segments
//! (frames start zeroed, so bss needs nothing); fill the hypercall page; write
//! start_info; build the bootstrap page tables, with the tables themselves
//! mapped read-only and the hypervisor's L4 slots copied in; pin the L4
//! through the frame table, which validates the whole tree as any guest
//! table is validated, and make it the vCPU's base pointer; allocate
//! shared_info with events masked; set the initial registers (`xen.h`'s start-of-day rules).
//!
//! Every frame is given to the domain in the frame table as it is taken.
//! If building fails half-way, the frames taken so far stay the domain's:
//! the caller gives them back with `FrameTable::relinquish_all`.

use super::boot_layout::{BootLayout, LayoutError, LayoutRequest};
use super::domain_table::VacantSlot;
use super::elf_image::ElfImage;
use super::guest_notes::GuestNotes;
use super::privilege::Privilege;
use super::pv_domain::PvDomain;
use crate::arch::{FrameSource, MachineToPhys, PhysicalMemory};
use crate::event::Channel;
use crate::grant::grant_table::INITIAL_GRANT_FRAMES;
use crate::hypercall::hypercall_page::{HYPERCALL_PAGE_SIZE, fill_hypercall_page};
use crate::mm::layout::{FIRST_HYPERVISOR_L4_SLOT, LAST_HYPERVISOR_L4_SLOT};
use crate::mm::mfn::PAGE_SIZE;
use crate::mm::pte_rules::{ACCESSED, ADDRESS_MASK, DIRTY, GUEST_KERNEL, PRESENT, RW, USER};
use crate::mm::{FrameTable, Mfn, PageType, Pfn, TableLevel};
use crate::trap_frame::TrapFrame;
use core::fmt;
use heapless::Vec;
use p2m_tables::{MAX_P2M_TABLES, P2mFrames, map_p2m, table_positions};
use xen_abi::errno::Errno;
use xen_abi::grant_table::{GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE, GrantFlags};
use xen_abi::mmu::DomId;
use xen_abi::start_info::{MAX_GUEST_CMDLINE, SifFlags, StartInfo, XEN_START_INFO_MAGIC};
use xen_abi::trap::{FLAT_KERNEL_CS, FLAT_KERNEL_SS};
use zerocopy::{FromZeros, IntoBytes};
// The ports of a domU's xenstore and console rings, offered to dom0.
pub use xen_abi::domain_builder::{CONSOLE_PORT, STORE_PORT};

/// Largest domain the builder makes: 1 GiB, so that the frames backing the
/// p2m list fit in a fixed table of `MAX_P2M_PAGES`.
pub const MAX_DOMAIN_PAGES: u64 = 1 << 18;
/// p2m pages of the largest domain.
const MAX_P2M_PAGES: usize = (MAX_DOMAIN_PAGES / 512) as usize;
/// p2m entries per page.
const ENTRIES_PER_PAGE: u64 = PAGE_SIZE / 8;

/// Leaf entries: Xen's builder writes PRESENT|RW|ACCESSED, and validation
/// adds USER (guest kernels run in ring 3) with the guest-kernel tag.
const L1_FLAGS: u64 = PRESENT | RW | ACCESSED | USER | GUEST_KERNEL;
/// Upper-level entries.
const TABLE_FLAGS: u64 = PRESENT | RW | ACCESSED | DIRTY | USER;
/// RFLAGS at the first instruction: IF, and the always-one bit 1.
const INITIAL_RFLAGS: u64 = 0x202;

/// What to build.
pub struct BuildRequest<'a> {
    /// The checked image.
    pub image: &'a ElfImage<'a>,
    /// Its checked notes.
    pub notes: &'a GuestNotes<'a>,
    /// Name, for logs.
    pub name: &'a str,
    /// Pages of memory.
    pub nr_pages: u64,
    /// The guest command line.
    pub cmdline: &'a str,
    /// Its boot module (initrd), empty for none.
    pub module: &'a [u8],
    /// The hypervisor's L4, whose slots 256–271 every guest L4 shares.
    pub hypervisor_l4: Mfn,
}

/// A domain ready to run.
pub struct BuiltDomain<'t> {
    /// The domain, where it lives.
    pub domain: &'t mut PvDomain,
    /// Registers at its first instruction.
    pub frame: TrapFrame,
    /// Its L4: what CR3 holds while it runs.
    pub l4: Mfn,
    /// Where everything was put.
    pub layout: BootLayout,
}

/// Why a domain could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The layout failed (too little memory, bad placement).
    Layout(LayoutError),
    /// More memory than the builder supports.
    TooLarge(u64),
    /// The machine ran out of frames.
    OutOfMemory,
    /// The command line does not fit start_info.
    CommandLineTooLong(usize),
    /// The frame table refused to give a frame to the domain (it is beyond
    /// the table or not free): a hypervisor bug.
    FrameNotAssignable(Mfn, Errno),
    /// The page tables the builder wrote failed validation: a builder bug.
    PageTablesRefused(Errno),
    /// The xenstore and console rings could not be granted to dom0 (ports
    /// or grant entries taken): a builder bug.
    RingsNotSeeded(Errno),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Layout(error) => write!(f, "{error}"),
            BuildError::TooLarge(pages) => {
                write!(
                    f,
                    "domain builder: {pages} pages asked, at most {MAX_DOMAIN_PAGES} (1 GiB) supported"
                )
            }
            BuildError::OutOfMemory => write!(f, "domain builder: out of memory"),
            BuildError::CommandLineTooLong(length) => {
                write!(
                    f,
                    "domain builder: command line of {length} bytes, at most {} fit",
                    MAX_GUEST_CMDLINE - 1
                )
            }
            BuildError::FrameNotAssignable(mfn, errno) => {
                write!(
                    f,
                    "domain builder: frame {mfn} cannot be given to the domain ({errno:?})"
                )
            }
            BuildError::RingsNotSeeded(errno) => {
                write!(f, "domain builder: the rings could not be offered to dom0 ({errno:?})")
            }
            BuildError::PageTablesRefused(errno) => {
                write!(
                    f,
                    "domain builder: the initial page tables failed validation ({errno:?})"
                )
            }
        }
    }
}

/// The domain's memory while it is being built: pfn → mfn through the p2m
/// list it is writing.
struct DomainMemory<'m, M: PhysicalMemory> {
    memory: &'m mut M,
    p2m_frames: [Mfn; MAX_P2M_PAGES],
    /// The tables mapping the p2m list where the guest asked, in the order
    /// they were taken.
    p2m_tables: Vec<Mfn, MAX_P2M_TABLES>,
    nr_pages: u64,
}

impl<M: PhysicalMemory> DomainMemory<'_, M> {
    fn mfn(&self, Pfn(pfn): Pfn) -> Mfn {
        let page = self.p2m_frames[(pfn / ENTRIES_PER_PAGE) as usize];
        Mfn(self.memory.read_u64(page.address() + (pfn % ENTRIES_PER_PAGE) * 8))
    }

    fn set_mfn(&mut self, Pfn(pfn): Pfn, mfn: Mfn) {
        let page = self.p2m_frames[(pfn / ENTRIES_PER_PAGE) as usize];
        self.memory
            .write_u64(page.address() + (pfn % ENTRIES_PER_PAGE) * 8, mfn.0);
    }

    /// Writes `data` to the domain's frames from `first` on, page by page.
    fn write_frames(&mut self, Pfn(first): Pfn, data: &[u8]) {
        for (page, chunk) in data.chunks(PAGE_SIZE as usize).enumerate() {
            let mfn = self.mfn(Pfn(first + page as u64));
            self.memory.write_bytes(mfn.address(), chunk);
        }
    }

    /// Writes `data` at guest virtual `va`, page by page.
    fn write_virtual(&mut self, layout: &BootLayout, va: u64, data: &[u8]) {
        let mut done = 0;
        while done < data.len() {
            let at = va + done as u64;
            let in_page = (PAGE_SIZE - at % PAGE_SIZE) as usize;
            let length = in_page.min(data.len() - done);
            let mfn = self.mfn(layout.pfn(at));
            self.memory
                .write_bytes(mfn.address() + at % PAGE_SIZE, &data[done..done + length]);
            done += length;
        }
    }
}

/// Builds a PV domain in `slot` (taking its id), taking its frames from
/// `frames` and giving them to it in `table`.
pub fn build_pv_domain<'t>(
    request: &BuildRequest<'_>,
    slot: VacantSlot<'t>,
    memory: &mut impl PhysicalMemory,
    frames: &mut impl FrameSource,
    table: &mut FrameTable<'_>,
    m2p: &mut impl MachineToPhys,
) -> Result<BuiltDomain<'t>, BuildError> {
    let domid = slot.id();
    let notes = request.notes;
    if request.nr_pages > MAX_DOMAIN_PAGES {
        return Err(BuildError::TooLarge(request.nr_pages));
    }
    if request.cmdline.len() >= MAX_GUEST_CMDLINE {
        return Err(BuildError::CommandLineTooLong(request.cmdline.len()));
    }
    // A guest with the MOD_START_PFN note takes its module by frame number,
    // unmapped, as Xen's builder then gives it.
    let unmapped_module = notes.mod_start_pfn && !request.module.is_empty();
    let module_bytes = request.module.len() as u64;
    let layout = BootLayout::compute(&LayoutRequest {
        virt_base: notes.virt_base,
        kernel_start: notes.virt_kstart,
        kernel_end: notes.virt_kend,
        module_bytes: if unmapped_module { 0 } else { module_bytes },
        unmapped_module_pages: if unmapped_module {
            module_bytes.div_ceil(PAGE_SIZE)
        } else {
            0
        },
        nr_pages: request.nr_pages,
        init_p2m: notes.init_p2m,
        ring_pages: Privilege::of_domain(domid).is_none(),
    })
    .map_err(BuildError::Layout)?;

    let mut domain = DomainMemory {
        memory,
        p2m_frames: [Mfn(0); MAX_P2M_PAGES],
        p2m_tables: Vec::new(),
        nr_pages: request.nr_pages,
    };
    let mut frames = DomainFrames {
        source: frames,
        table,
        owner: domid,
    };
    allocate_memory(&mut domain, &layout, &mut frames, m2p)?;
    load_segments(&mut domain, &layout, request.image, notes);
    match layout.unmapped_module {
        Some(first) => domain.write_frames(first, request.module),
        None => domain.write_virtual(&layout, layout.module.start, request.module),
    }
    if let Some(page) = notes.hypercall_page {
        let mut stubs = [0u8; HYPERCALL_PAGE_SIZE];
        fill_hypercall_page(&mut stubs);
        domain.write_virtual(&layout, page, &stubs);
    }
    let l4 = build_page_tables(&mut domain, &layout, request.hypervisor_l4);
    if let Some(mapping) = &layout.p2m_mapping {
        let frames = P2mFrames {
            tables: &domain.p2m_tables,
            pages: &domain.p2m_frames,
            table_flags: TABLE_FLAGS,
            leaf_flags: L1_FLAGS,
        };
        map_p2m(domain.memory, mapping, l4, &frames);
    }

    // shared_info and the grant frames are the hypervisor's pages shared
    // with the guest, outside its reservation, as Xen's xenheap pages.
    let shared_info = frames.take_shared_xen_page()?;
    domain.memory.zero_frame(shared_info);
    let guest = slot.fill(request.name, shared_info, request.nr_pages);
    let mut grant_frames = [Mfn(0); INITIAL_GRANT_FRAMES];
    for grant_frame in &mut grant_frames {
        *grant_frame = frames.take_shared_xen_page()?;
        domain.memory.zero_frame(*grant_frame);
    }
    let table = &mut *frames.table;
    table
        .pin(domain.memory, l4, domid, TableLevel::L4)
        .map_err(BuildError::PageTablesRefused)?;
    // A new vCPU has no base yet, so none is left to put; nothing runs on
    // this one until the kernel loads its base.
    let first = table
        .new_baseptr(domain.memory, domid, &mut guest.vcpu.kernel_base, l4)
        .map_err(BuildError::PageTablesRefused)?;
    debug_assert_eq!(first, crate::mm::BaseSwitch::Switched { old: None });
    let shared = table
        .get_page_and_type(domain.memory, shared_info, domid, PageType::Writable)
        .map_err(|errno| BuildError::FrameNotAssignable(shared_info, errno))?;
    guest.hold_shared_info(shared);
    // Grant frames, shared with the guest like shared_info (Xen's
    // `gnttab_create_shared_page`): set up with `setup_table`.
    for grant_frame in grant_frames {
        let typed = table
            .get_page_and_type(domain.memory, grant_frame, domid, PageType::Writable)
            .map_err(|errno| BuildError::FrameNotAssignable(grant_frame, errno))?;
        if let Err(typed) = guest.grants.add_frame(typed) {
            table.put_page_and_type(domain.memory, typed);
        }
    }
    if let (Some(store), Some(console)) = (layout.xenstore, layout.console) {
        let rings = [
            (GNTTAB_RESERVED_XENSTORE, domain.mfn(layout.pfn(store))),
            (GNTTAB_RESERVED_CONSOLE, domain.mfn(layout.pfn(console))),
        ];
        seed_rings_for_dom0(guest, domain.memory, rings)?;
    }
    // The domain has never run, so no TLB holds a stale mapping of the frames
    // that just became its page tables.
    let _ = table.take_flush_request();
    // Events start masked on every vCPU (`evtchn_upcall_mask`, as Xen's builder leaves it).
    for vcpu in 0..32u64 {
        domain.memory.write_bytes(shared_info.address() + vcpu * 64 + 1, &[1]);
    }
    write_start_info(&mut domain, &layout, request, domid, shared_info);

    let frame = TrapFrame {
        rip: notes.entry,
        cs: u64::from(FLAT_KERNEL_CS),
        rflags: INITIAL_RFLAGS,
        rsp: layout.stack + PAGE_SIZE,
        ss: u64::from(FLAT_KERNEL_SS),
        rsi: layout.start_info,
        ..TrapFrame::default()
    };
    Ok(BuiltDomain {
        domain: guest,
        frame,
        l4,
        layout,
    })
}

/// Where the domain's frames come from, and whose they become.
struct DomainFrames<'a, 'f, F: FrameSource> {
    source: &'a mut F,
    table: &'a mut FrameTable<'f>,
    owner: DomId,
}

impl<F: FrameSource> DomainFrames<'_, '_, F> {
    /// A free frame, now the domain's.
    fn take(&mut self) -> Result<Mfn, BuildError> {
        let mfn = self.source.allocate_frame().ok_or(BuildError::OutOfMemory)?;
        self.table
            .assign(mfn, self.owner)
            .map_err(|errno| BuildError::FrameNotAssignable(mfn, errno))?;
        Ok(mfn)
    }

    /// A free frame, now a hypervisor page shared with the domain.
    fn take_shared_xen_page(&mut self) -> Result<Mfn, BuildError> {
        let mfn = self.source.allocate_frame().ok_or(BuildError::OutOfMemory)?;
        self.table
            .assign_shared_xen_page(mfn, self.owner)
            .map_err(|errno| BuildError::FrameNotAssignable(mfn, errno))?;
        Ok(mfn)
    }
}

/// Allocates and zeroes every page, writing the p2m list and the M2P.
fn allocate_memory<M: PhysicalMemory>(
    domain: &mut DomainMemory<'_, M>,
    layout: &BootLayout,
    frames: &mut DomainFrames<'_, '_, impl FrameSource>,
    m2p: &mut impl MachineToPhys,
) -> Result<(), BuildError> {
    let mut take = |memory: &mut M| -> Result<Mfn, BuildError> {
        let mfn = frames.take()?;
        memory.zero_frame(mfn);
        Ok(mfn)
    };
    // The p2m pages first: every other page's entry is written into them.
    let p2m_pages = domain.nr_pages.div_ceil(ENTRIES_PER_PAGE);
    for page in 0..p2m_pages as usize {
        domain.p2m_frames[page] = take(domain.memory)?;
    }
    // Where their frame numbers start, and which of the numbers after are
    // the tables mapping them where the guest asked (INIT_P2M).
    let (first_p2m_pfn, tables) = match &layout.p2m_mapping {
        Some(mapping) => (
            mapping.first_pfn,
            table_positions(mapping).ok_or(BuildError::OutOfMemory)?,
        ),
        None => (layout.pfn(layout.p2m.start).0, Vec::new()),
    };
    for pfn in 0..domain.nr_pages {
        let position = pfn.checked_sub(first_p2m_pfn);
        let is_table = position.is_some_and(|at| tables.iter().any(|table| table.position == at));
        let p2m_page = position
            .map(|at| at - tables.iter().filter(|table| table.position < at).count() as u64)
            .filter(|&index| index < p2m_pages && !is_table);
        let mfn = match p2m_page {
            Some(index) => domain.p2m_frames[index as usize],
            None => take(domain.memory)?,
        };
        if is_table {
            domain.p2m_tables.push(mfn).map_err(|_| BuildError::OutOfMemory)?;
        }
        domain.set_mfn(Pfn(pfn), mfn);
        m2p.set(mfn, Pfn(pfn));
    }
    // Unused entries of the last p2m page are all-ones (no frame).
    for pfn in domain.nr_pages..p2m_pages * ENTRIES_PER_PAGE {
        domain.set_mfn(Pfn(pfn), Mfn(u64::MAX));
    }
    Ok(())
}

/// Copies each loadable segment's file bytes to its place.
fn load_segments<M: PhysicalMemory>(
    domain: &mut DomainMemory<'_, M>,
    layout: &BootLayout,
    image: &ElfImage<'_>,
    notes: &GuestNotes<'_>,
) {
    for segment in image.segments() {
        if let Some((start, _)) = notes.load_range(segment) {
            domain.write_virtual(layout, start, segment.data(image));
        }
    }
}

/// Builds the page tables mapping `[virt_base, end)` in the frames the layout
/// reserved for them, and returns the L4.
fn build_page_tables<M: PhysicalMemory>(
    domain: &mut DomainMemory<'_, M>,
    layout: &BootLayout,
    hypervisor_l4: Mfn,
) -> Mfn {
    let Pfn(first_table_pfn) = layout.pfn(layout.page_tables.start);
    let table_pfns = first_table_pfn..first_table_pfn + layout.page_tables.pages();
    let l4 = domain.mfn(Pfn(first_table_pfn));
    let mut next_table = first_table_pfn + 1;
    for slot in FIRST_HYPERVISOR_L4_SLOT..=LAST_HYPERVISOR_L4_SLOT {
        let entry = domain.memory.read_u64(hypervisor_l4.address() + slot as u64 * 8);
        domain.memory.write_u64(l4.address() + slot as u64 * 8, entry);
    }
    let mut va = layout.virt_base;
    while va < layout.end {
        let mut table = l4;
        for level in [4u32, 3, 2] {
            let slot = table.address() + ((va >> (12 + 9 * (level - 1))) & 511) * 8;
            let entry = domain.memory.read_u64(slot);
            table = if entry & PRESENT != 0 {
                Mfn::containing(entry & ADDRESS_MASK)
            } else {
                let fresh = domain.mfn(Pfn(next_table));
                next_table += 1;
                domain.memory.write_u64(slot, fresh.address() | TABLE_FLAGS);
                fresh
            };
        }
        let pfn = layout.pfn(va);
        // Page tables are mapped read-only: guests change them by hypercall.
        let flags = if table_pfns.contains(&pfn.0) {
            L1_FLAGS & !RW
        } else {
            L1_FLAGS
        };
        let l1_slot = table.address() + ((va >> 12) & 511) * 8;
        domain.memory.write_u64(l1_slot, domain.mfn(pfn).address() | flags);
        va += PAGE_SIZE;
    }
    l4
}

/// What Xen's toolstack does before a domU runs: its xenstore and console
/// ring frames granted to dom0 in the reserved entries (1 and 0) of its
/// first grant frame, set up; an unbound port offered to dom0 for each
/// ring ([`STORE_PORT`], [`CONSOLE_PORT`]), which start_info names.
fn seed_rings_for_dom0<M: PhysicalMemory>(
    guest: &mut PvDomain,
    memory: &mut M,
    rings: [(u32, Mfn); 2],
) -> Result<(), BuildError> {
    for expected in [STORE_PORT, CONSOLE_PORT] {
        let port = guest
            .events
            .allocate(Channel::Unbound { remote: 0 })
            .map_err(BuildError::RingsNotSeeded)?;
        if u32::from(port) != expected {
            return Err(BuildError::RingsNotSeeded(Errno::EEXIST));
        }
    }
    if guest.grants.setup(1).is_none() {
        return Err(BuildError::RingsNotSeeded(Errno::ENOSPC));
    }
    let access = u64::from(GrantFlags::PERMIT_ACCESS.bits());
    for (gref, frame) in rings {
        let address = guest
            .grants
            .entry_address(gref)
            .ok_or(BuildError::RingsNotSeeded(Errno::ENOSPC))?;
        // Grantee dom0 (domid 0 in bits 16-31), the frame in bits 32-63.
        memory.write_u64(address, access | (frame.0 << 32));
    }
    Ok(())
}

/// Writes start_info (`struct start_info`, `xen.h`).
fn write_start_info<M: PhysicalMemory>(
    domain: &mut DomainMemory<'_, M>,
    layout: &BootLayout,
    request: &BuildRequest<'_>,
    domid: DomId,
    shared_info: Mfn,
) {
    let mut info = StartInfo::new_zeroed();
    info.magic[..XEN_START_INFO_MAGIC.len()].copy_from_slice(XEN_START_INFO_MAGIC);
    info.nr_pages = request.nr_pages;
    info.shared_info = shared_info.address();
    let flags = if Privilege::of_domain(domid).is_some() {
        SifFlags::PRIVILEGED | SifFlags::INITDOMAIN
    } else {
        SifFlags::empty()
    };
    let module_bytes = request.module.len() as u64;
    if module_bytes > 0 {
        info.mod_len = module_bytes;
        info.mod_start = match layout.unmapped_module {
            Some(Pfn(first)) => first,
            None => layout.module.start,
        };
    }
    let flags = match layout.unmapped_module {
        Some(_) => flags | SifFlags::MOD_START_PFN,
        None => flags,
    };
    info.flags = flags.bits();
    info.pt_base = layout.page_tables.start;
    info.nr_pt_frames = layout.page_tables.pages();
    info.mfn_list = layout.p2m.start;
    if let Some(mapping) = &layout.p2m_mapping {
        info.mfn_list = mapping.start;
        info.first_p2m_pfn = mapping.first_pfn;
        info.nr_p2m_frames = mapping.frames;
    }
    info.cmd_line[..request.cmdline.len()].copy_from_slice(request.cmdline.as_bytes());
    if let (Some(store), Some(console)) = (layout.xenstore, layout.console) {
        info.store_mfn = domain.mfn(layout.pfn(store)).0;
        info.store_evtchn = STORE_PORT;
        let console_mfn = domain.mfn(layout.pfn(console)).0;
        info.console.domu_mut().mfn = console_mfn;
        info.console.domu_mut().evtchn = CONSOLE_PORT;
    }
    domain.write_virtual(layout, layout.start_info, info.as_bytes());
}

mod p2m_tables;
#[cfg(test)]
mod tests;
