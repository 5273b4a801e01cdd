//! The fake machine's CPU address translation: a four-level walk from CR3
//! through the tables in physical memory, a TLB of leaf translations and a
//! cache of the tables the walks went through, kept until a flush or a
//! base load drops them, as the hardware keeps them.
//!
//! It is what makes host tests see what a real CPU would: a batch that
//! edits the tables the CPU is still walking, or a translation the TLB kept
//! after the tables stopped allowing it, shows in where the hypervisor's
//! writes to guest memory land.

use super::fake::FakeMemory;
use super::{GuestFault, PhysicalMemory};
use crate::mm::Mfn;
use crate::mm::layout::FIRST_HYPERVISOR_L4_SLOT;
use crate::mm::mfn::PAGE_SIZE;
use crate::mm::pte_rules::{HYPERVISOR_L4_SLOTS, PRESENT, PSE, RW, entry_address, entry_mfn};
use crate::mm::tlb_flush::TlbFlush;
use std::collections::BTreeMap;

/// Where a translation leads, and whether it allows writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// The frame reached (a data frame for a TLB entry, a table for a
    /// cached walk).
    pub frame: Mfn,
    /// Every entry on the way had RW set.
    pub writable: bool,
}

/// How much the fake CPU remembers between accesses. Both are what a real
/// CPU may do: it may keep translations until a flush, and may drop any of
/// them at any time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caching {
    /// Keeps every leaf translation and walk until a flush or a base load:
    /// shows what stale translations can reach.
    UntilFlushed,
    /// Keeps nothing, walks from CR3 on every access: shows which tables
    /// the CPU walks at each moment.
    Nothing,
}

/// The page-walking CPU of one vCPU.
pub struct FakeMmu {
    memory: FakeMemory,
    cr3: Mfn,
    caching: Caching,
    /// Leaf translations by virtual page number.
    tlb: BTreeMap<u64, Translation>,
    /// Tables the walks reached, by (level, virtual address >> the bits
    /// that table covers): level 1 is the L1 serving a 2 MiB region.
    walks: BTreeMap<(u8, u64), Translation>,
    /// What slots 256–271 of every L4 in CR3 must hold, if the test says.
    hypervisor_slots: Option<[u64; HYPERVISOR_L4_SLOTS]>,
    /// The first L4 found in CR3 without them.
    died_on: Option<Mfn>,
}

impl FakeMmu {
    /// A CPU with `cr3` loaded and nothing cached yet.
    pub fn new(memory: FakeMemory, cr3: Mfn, caching: Caching) -> Self {
        FakeMmu {
            memory,
            cr3,
            caching,
            tlb: BTreeMap::new(),
            walks: BTreeMap::new(),
            hypervisor_slots: None,
            died_on: None,
        }
    }

    /// From now on, checks at every access that the L4 in CR3 holds
    /// `slots`: the hypervisor runs on them, so on real hardware an L4
    /// without them in CR3 kills the machine at its next TLB miss.
    pub fn expect_hypervisor_slots(&mut self, slots: [u64; HYPERVISOR_L4_SLOTS]) {
        self.hypervisor_slots = Some(slots);
    }

    /// The L4 in CR3 at an access where it lacked the hypervisor's slots:
    /// where the real machine would have died.
    pub fn died_on(&self) -> Option<Mfn> {
        self.died_on
    }

    /// The L4 in CR3.
    pub fn cr3(&self) -> Mfn {
        self.cr3
    }

    /// Every leaf translation the TLB holds: virtual page number and target.
    pub fn tlb(&self) -> impl Iterator<Item = (u64, Translation)> + '_ {
        self.tlb.iter().map(|(&page, &translation)| (page, translation))
    }

    /// Every cached walk: the level of the table reached and the table.
    pub fn cached_tables(&self) -> impl Iterator<Item = (u8, Translation)> + '_ {
        self.walks
            .iter()
            .map(|(&(level, _), &translation)| (level, translation))
    }

    /// Loads CR3, dropping everything cached.
    pub fn load_base(&mut self, l4: Mfn) {
        self.cr3 = l4;
        self.flush(TlbFlush::All);
    }

    /// `invlpg` (one leaf, and every cached walk, as the SDM allows) or a
    /// full flush.
    pub fn flush(&mut self, flush: TlbFlush) {
        match flush {
            TlbFlush::None => {}
            TlbFlush::Page(va) => {
                self.tlb.remove(&page_number(va));
                self.walks.clear();
            }
            TlbFlush::All => {
                self.tlb.clear();
                self.walks.clear();
            }
        }
    }

    /// Reads guest virtual memory, translating page by page.
    pub fn read(&mut self, address: u64, out: &mut [u8]) -> Result<(), GuestFault> {
        let mut done = 0;
        while done < out.len() {
            let at = address.wrapping_add(done as u64);
            let chunk = chunk_len(at, out.len() - done);
            let frame = self.translate(at, false)?;
            self.memory
                .read_bytes(frame.address() + at % PAGE_SIZE, &mut out[done..done + chunk]);
            done += chunk;
        }
        Ok(())
    }

    /// Writes guest virtual memory, translating page by page.
    pub fn write(&mut self, address: u64, data: &[u8]) -> Result<(), GuestFault> {
        let mut done = 0;
        while done < data.len() {
            let at = address.wrapping_add(done as u64);
            let chunk = chunk_len(at, data.len() - done);
            let frame = self.translate(at, true)?;
            self.memory
                .write_bytes(frame.address() + at % PAGE_SIZE, &data[done..done + chunk]);
            done += chunk;
        }
        Ok(())
    }

    /// The frame `va` is in, from the TLB or by a walk that starts at the
    /// deepest cached table.
    fn translate(&mut self, va: u64, write: bool) -> Result<Mfn, GuestFault> {
        let fault = GuestFault { address: va };
        self.check_hypervisor_slots();
        if self.caching == Caching::Nothing {
            self.flush(TlbFlush::All);
        }
        let leaf = match self.tlb.get(&page_number(va)) {
            Some(&leaf) => leaf,
            None => {
                let leaf = self.walk(va).ok_or(fault)?;
                self.tlb.insert(page_number(va), leaf);
                leaf
            }
        };
        if write && !leaf.writable {
            return Err(fault);
        }
        Ok(leaf.frame)
    }

    fn check_hypervisor_slots(&mut self) {
        let Some(slots) = self.hypervisor_slots else {
            return;
        };
        let intact = slots.iter().enumerate().all(|(offset, &slot)| {
            self.memory
                .read_uncounted(entry_address(self.cr3, FIRST_HYPERVISOR_L4_SLOT + offset))
                == slot
        });
        if !intact && self.died_on.is_none() {
            self.died_on = Some(self.cr3);
        }
    }

    fn walk(&mut self, va: u64) -> Option<Translation> {
        let mut level = 4u8;
        let mut table = Translation {
            frame: self.cr3,
            writable: true,
        };
        for cached in 1..=3u8 {
            if let Some(&found) = self.walks.get(&(cached, region(va, cached))) {
                level = cached;
                table = found;
                break;
            }
        }
        loop {
            let index = ((va >> (12 + 9 * (u64::from(level) - 1))) & 511) as usize;
            let entry = self.memory.read_uncounted(entry_address(table.frame, index));
            if entry & PRESENT == 0 || (level > 1 && entry & PSE != 0) {
                return None;
            }
            let next = Translation {
                frame: entry_mfn(entry),
                writable: table.writable && entry & RW != 0,
            };
            if level == 1 {
                return Some(next);
            }
            level -= 1;
            self.walks.insert((level, region(va, level)), next);
            table = next;
        }
    }
}

/// The virtual page number of `va` (48-bit addresses).
fn page_number(va: u64) -> u64 {
    (va & 0xffff_ffff_ffff) >> 12
}

/// Which region a table of `level` covers `va` in.
fn region(va: u64, level: u8) -> u64 {
    (va & 0xffff_ffff_ffff) >> (12 + 9 * u64::from(level))
}

/// Bytes from `at` to the end of its page, at most `left`.
fn chunk_len(at: u64, left: usize) -> usize {
    ((PAGE_SIZE - at % PAGE_SIZE) as usize).min(left)
}
