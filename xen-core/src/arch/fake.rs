//! A fake machine for host tests: sparse physical memory, guest memory
//! either as a flat set of pages or walked through page tables
//! ([`super::fake_mmu`]), an M2P and a console.

use super::fake_mmu::{Caching, FakeMmu};
use super::*;
use crate::mm::gdt_frames::GdtFrames;
use crate::mm::ldt_view::LdtView;
use crate::mm::mfn::PAGE_SIZE;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The words of every frame written so far, by frame number.
pub type FrameWords = BTreeMap<u64, [u64; 512]>;

/// Sparse physical memory; unwritten words read as zero. [`FakeMemory::share`]
/// gives a second handle on the same storage, which the page-walking guest
/// memory reads tables through, as the CPU reads the RAM the hypervisor writes.
/// It counts word reads and notes which frames are written, so tests can
/// bound the work of a call and check where its writes went.
#[derive(Default)]
pub struct FakeMemory {
    storage: Rc<RefCell<Storage>>,
}

#[derive(Default)]
struct Storage {
    frames: FrameWords,
    reads: u64,
    written: std::collections::BTreeSet<u64>,
}

impl FakeMemory {
    /// Another handle on the same memory.
    pub fn share(&self) -> FakeMemory {
        FakeMemory {
            storage: Rc::clone(&self.storage),
        }
    }

    /// A copy of every frame written so far.
    pub fn snapshot(&self) -> FrameWords {
        self.storage.borrow().frames.clone()
    }

    /// The words of frame `mfn` (zeroes if never written).
    pub fn frame_words(&self, mfn: Mfn) -> [u64; 512] {
        self.storage.borrow().frames.get(&mfn.0).copied().unwrap_or([0; 512])
    }

    /// Word reads through [`PhysicalMemory::read_u64`] since the last call.
    pub fn take_reads(&self) -> u64 {
        core::mem::take(&mut self.storage.borrow_mut().reads)
    }

    /// The frames written since the last call.
    pub fn take_written_frames(&self) -> std::collections::BTreeSet<u64> {
        core::mem::take(&mut self.storage.borrow_mut().written)
    }

    /// Reads a word without counting it: the fake CPU's page walks, which are
    /// not the hypervisor's work.
    pub(super) fn read_uncounted(&self, address: u64) -> u64 {
        let storage = self.storage.borrow();
        storage
            .frames
            .get(&(address / PAGE_SIZE))
            .map_or(0, |frame| frame[(address % PAGE_SIZE / 8) as usize])
    }
}

impl PhysicalMemory for FakeMemory {
    fn read_u64(&self, address: u64) -> u64 {
        assert_eq!(address % 8, 0, "misaligned word read at {address:#x}");
        self.storage.borrow_mut().reads += 1;
        self.read_uncounted(address)
    }

    fn write_u64(&mut self, address: u64, value: u64) {
        assert_eq!(address % 8, 0, "misaligned word write at {address:#x}");
        let mut storage = self.storage.borrow_mut();
        storage.written.insert(address / PAGE_SIZE);
        let frame = storage.frames.entry(address / PAGE_SIZE).or_insert([0; 512]);
        frame[(address % PAGE_SIZE / 8) as usize] = value;
    }

    fn zero_frame(&mut self, mfn: Mfn) {
        let mut storage = self.storage.borrow_mut();
        storage.written.insert(mfn.0);
        storage.frames.insert(mfn.0, [0; 512]);
    }
}

/// Guest virtual memory. By default a sparse set of pages, each readable and
/// optionally writable, everything else faulting; after
/// [`FakeGuestMemory::walk_tables`] every access is translated through the
/// page tables in physical memory, with a TLB, as the CPU does.
#[derive(Default)]
pub struct FakeGuestMemory {
    /// Mapped pages by page number (flat mode): contents and whether writes
    /// are allowed.
    pub pages: BTreeMap<u64, (std::vec::Vec<u8>, bool)>,
    /// TLB flushes asked for, in order.
    pub flushes: std::vec::Vec<TlbFlush>,
    /// Page-table bases loaded, in order.
    pub bases: std::vec::Vec<Mfn>,
    /// GDTs loaded, in order.
    pub gdts: std::vec::Vec<GdtFrames>,
    /// LDTs loaded, in order.
    pub ldts: std::vec::Vec<LdtView>,
    mmu: Option<FakeMmu>,
}

impl FakeGuestMemory {
    /// Maps a zeroed page at `address` (page-aligned), in flat mode.
    pub fn map(&mut self, address: u64, writable: bool) {
        self.pages
            .insert(address / PAGE_SIZE, (std::vec![0; PAGE_SIZE as usize], writable));
    }

    /// From now on, translates every access through the tables under the L4
    /// `cr3` in `memory`, as the CPU would with that base loaded, keeping
    /// translations as `caching` says.
    pub fn walk_tables(&mut self, memory: &FakeMemory, cr3: Mfn, caching: Caching) {
        self.mmu = Some(FakeMmu::new(memory.share(), cr3, caching));
    }

    /// The page-walking CPU, if [`FakeGuestMemory::walk_tables`] was called.
    pub fn mmu(&self) -> Option<&FakeMmu> {
        self.mmu.as_ref()
    }

    /// The page-walking CPU, for setting it up.
    pub fn mmu_mut(&mut self) -> Option<&mut FakeMmu> {
        self.mmu.as_mut()
    }
}

impl GuestMemory for FakeGuestMemory {
    fn read(&mut self, address: u64, out: &mut [u8]) -> Result<(), GuestFault> {
        if let Some(mmu) = &mut self.mmu {
            return mmu.read(address, out);
        }
        for (offset, byte) in out.iter_mut().enumerate() {
            let at = address.wrapping_add(offset as u64);
            let (page, _) = self.pages.get(&(at / PAGE_SIZE)).ok_or(GuestFault { address: at })?;
            *byte = page[(at % PAGE_SIZE) as usize];
        }
        Ok(())
    }

    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), GuestFault> {
        if let Some(mmu) = &mut self.mmu {
            return mmu.write(address, data);
        }
        for (offset, byte) in data.iter().enumerate() {
            let at = address.wrapping_add(offset as u64);
            match self.pages.get_mut(&(at / PAGE_SIZE)) {
                Some((page, true)) => page[(at % PAGE_SIZE) as usize] = *byte,
                _ => return Err(GuestFault { address: at }),
            }
        }
        Ok(())
    }

    fn flush_tlb(&mut self, flush: TlbFlush) {
        self.flushes.push(flush);
        if let Some(mmu) = &mut self.mmu {
            mmu.flush(flush);
        }
    }

    fn load_gdt(&mut self, gdt: &GdtFrames) {
        self.gdts.push(*gdt);
    }

    fn load_ldt(&mut self, ldt: &LdtView) {
        self.ldts.push(*ldt);
    }

    fn load_page_table_base(&mut self, l4: Mfn) {
        self.bases.push(l4);
        if let Some(mmu) = &mut self.mmu {
            mmu.load_base(l4);
        }
    }
}

/// An M2P table as a map.
#[derive(Default)]
pub struct FakeM2p {
    /// Entries set so far.
    pub entries: BTreeMap<u64, u64>,
}

impl MachineToPhys for FakeM2p {
    fn set(&mut self, mfn: Mfn, pfn: Pfn) {
        self.entries.insert(mfn.0, pfn.0);
    }
}

/// A whole fake machine for hypercall tests.
#[derive(Default)]
pub struct FakePlatform {
    /// The guest's virtual memory, TLB and base.
    pub guest: FakeGuestMemory,
    /// Physical memory (shared_info lives here).
    pub memory: FakeMemory,
    /// Everything written to the console.
    pub console: std::vec::Vec<u8>,
    /// Console input waiting to be read.
    pub input: std::vec::Vec<u8>,
    /// Port writes: port, size, value.
    pub port_writes: std::vec::Vec<(u16, u8, u32)>,
    /// The M2P table.
    pub m2p: FakeM2p,
    /// System time (ns).
    pub now: u64,
    /// Free frames for guests' reservations (empty until a test adds some).
    pub frames: FakeFrameAllocator,
    /// The machine's memory map.
    pub machine_map: std::vec::Vec<xen_abi::memory::E820Entry>,
    /// The first frames of the M2P table's 2 MiB runs.
    pub m2p_extents: std::vec::Vec<Mfn>,
}

/// The fake machine's allocator: 32768 frames.
pub type FakeFrameAllocator = crate::mm::frame_allocator::FrameAllocator<512>;

impl Platform for FakePlatform {
    type Guest = FakeGuestMemory;
    type Memory = FakeMemory;
    type M2p = FakeM2p;

    fn guest(&mut self) -> &mut FakeGuestMemory {
        &mut self.guest
    }

    fn memory(&mut self) -> &mut FakeMemory {
        &mut self.memory
    }

    fn memory_parts(&mut self) -> (&mut FakeMemory, &mut FakeGuestMemory, &mut FakeM2p) {
        (&mut self.memory, &mut self.guest, &mut self.m2p)
    }

    fn now_ns(&mut self) -> u64 {
        self.now
    }

    fn console_write(&mut self, bytes: &[u8]) {
        self.console.extend_from_slice(bytes);
    }

    fn console_read(&mut self, out: &mut [u8]) -> usize {
        let count = out.len().min(self.input.len());
        out[..count].copy_from_slice(&self.input[..count]);
        self.input.drain(..count);
        count
    }

    fn port_write(&mut self, port: u16, size: u8, value: u32) {
        self.port_writes.push((port, size, value));
    }

    fn port_read(&mut self, port: u16, _size: u8) -> u32 {
        u32::from(port) ^ 0x5a5a
    }

    fn allocate_extent(&mut self, order: u32, limit: Mfn) -> Option<Mfn> {
        self.frames.allocate_extent(order, limit)
    }

    fn free_frame(&mut self, mfn: Mfn) -> bool {
        self.frames.free(mfn).is_ok()
    }

    fn machine_map_entry(&mut self, index: usize) -> Option<xen_abi::memory::E820Entry> {
        self.machine_map.get(index).copied()
    }

    fn m2p_extent(&mut self, index: usize) -> Option<Mfn> {
        self.m2p_extents.get(index).copied()
    }
}

/// Hands out consecutive frames from a fixed range.
pub struct FakeFrames {
    /// The next frame to hand out.
    pub next: u64,
    /// One past the last frame that may be handed out.
    pub end: u64,
}

impl FrameSource for FakeFrames {
    fn allocate_frame(&mut self) -> Option<Mfn> {
        (self.next < self.end).then(|| {
            self.next += 1;
            Mfn(self.next - 1)
        })
    }
}
