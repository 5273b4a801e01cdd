//! The arch seam: what portable code needs from the machine.
//!
//! The kernel image implements these traits over real hardware; host tests
//! implement them over a fake machine, so the logic above the seam runs under
//! `cargo test` unchanged.

mod machine;

pub use machine::Machine;

use crate::mm::gdt_frames::GdtFrames;
use crate::mm::ldt_view::LdtView;
use crate::mm::tlb_flush::TlbFlush;
use crate::mm::{Mfn, Pfn};

/// Access to physical memory by physical address.
///
/// The kernel implements it through the boot identity map early on and through
/// the direct map afterwards; tests implement it over a map of fake frames.
pub trait PhysicalMemory {
    /// Reads the naturally aligned 64-bit word at physical address `address`.
    fn read_u64(&self, address: u64) -> u64;
    /// Writes the naturally aligned 64-bit word at physical address `address`.
    fn write_u64(&mut self, address: u64, value: u64);
    /// Fills frame `mfn` with zeroes.
    fn zero_frame(&mut self, mfn: Mfn);

    /// Atomically ORs `bits` into the aligned word at `address` and returns
    /// the word as it was: the event-channel bitmaps in shared_info are
    /// written by guests too (other CPUs, once there are more), so their
    /// test-and-set must be one locked instruction. The default suits memory
    /// nobody else writes (host tests).
    fn fetch_or_u64(&mut self, address: u64, bits: u64) -> u64 {
        let old = self.read_u64(address);
        self.write_u64(address, old | bits);
        old
    }

    /// Atomically ANDs `bits` into the aligned word at `address` and returns
    /// the word as it was (see [`PhysicalMemory::fetch_or_u64`]).
    fn fetch_and_u64(&mut self, address: u64, bits: u64) -> u64 {
        let old = self.read_u64(address);
        self.write_u64(address, old & bits);
        old
    }

    /// Atomically replaces the aligned word at `address` with `new` if it
    /// still holds `current`; `Err` with what it holds otherwise. Grant
    /// entries need it: the granter may revoke one (its own compare-and-swap)
    /// while the hypervisor marks it in use.
    fn compare_exchange_u64(&mut self, address: u64, current: u64, new: u64) -> Result<u64, u64> {
        let old = self.read_u64(address);
        if old == current {
            self.write_u64(address, new);
            Ok(old)
        } else {
            Err(old)
        }
    }

    /// Reads `out.len()` bytes at physical `address`, any alignment. The
    /// default works word by word; implementations may copy directly.
    fn read_bytes(&self, address: u64, out: &mut [u8]) {
        for (offset, byte) in out.iter_mut().enumerate() {
            let at = address + offset as u64;
            *byte = (self.read_u64(at & !7) >> ((at & 7) * 8)) as u8;
        }
    }

    /// Copies `len` bytes from physical `from` to physical `to` (the ranges
    /// may overlap). The default goes through a buffer; implementations
    /// copy directly.
    fn copy_bytes(&mut self, from: u64, to: u64, len: usize) {
        let mut buffer = [0u8; 256];
        let forward = to <= from;
        let mut done = 0;
        while done < len {
            let chunk = (len - done).min(buffer.len());
            // Backwards when `to` is above `from`, so an overlap is read
            // before it is overwritten.
            let at = if forward { done } else { len - done - chunk } as u64;
            self.read_bytes(from + at, &mut buffer[..chunk]);
            self.write_bytes(to + at, &buffer[..chunk]);
            done += chunk;
        }
    }

    /// Writes `data` at physical `address`, any alignment. The default works
    /// word by word; implementations may copy directly.
    fn write_bytes(&mut self, address: u64, data: &[u8]) {
        for (offset, &byte) in data.iter().enumerate() {
            let at = address + offset as u64;
            let word = at & !7;
            let shift = (at & 7) * 8;
            let value = self.read_u64(word) & !(0xff << shift);
            self.write_u64(word, value | (u64::from(byte) << shift));
        }
    }
}

/// A guest virtual address at which an access faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestFault {
    /// The first byte that could not be accessed.
    pub address: u64,
}

/// Raw access to the running guest's virtual memory, as its page tables map it,
/// and control of how the CPU translates it (the base it walks, its TLB).
///
/// Implementations must recover from faults (an unmapped page, a write to a
/// read-only page) and report them as [`GuestFault`]; they do not check that
/// the range is guest space, which `crate::guest_copy` does before calling.
pub trait GuestMemory {
    /// Copies `out.len()` bytes from guest virtual `address`.
    fn read(&mut self, address: u64, out: &mut [u8]) -> Result<(), GuestFault>;
    /// Copies `data` to guest virtual `address`.
    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), GuestFault>;
    /// Drops the TLB entries that `flush` names (for `TlbFlush::Page`, also
    /// every cached upper-level entry, as `invlpg` does). Portable code calls
    /// it as soon as a translation the CPU may hold stops being allowed, and
    /// always before it touches guest memory again.
    fn flush_tlb(&mut self, flush: TlbFlush);
    /// Makes the validated L4 `l4` the base the CPU walks (loads CR3, which
    /// also drops every cached translation). The old base's references may
    /// be dropped only after this.
    fn load_page_table_base(&mut self, l4: Mfn);
    /// Makes `gdt` the guest part of the GDT the CPU uses (the descriptor
    /// window). A frame's descriptor-page reference may be dropped only
    /// after the window stopped showing it.
    fn load_gdt(&mut self, gdt: &GdtFrames);
    /// Makes `ldt` the LDT the CPU uses (the descriptor window's LDT pages
    /// and the LDT register). As with the GDT, a frame's reference may be
    /// dropped only after the window stopped showing it.
    fn load_ldt(&mut self, ldt: &LdtView);
}

/// What hypercall handlers need from the machine, bundled so that portable
/// code takes one generic parameter.
pub trait Platform {
    /// The running guest's virtual memory.
    type Guest: GuestMemory;
    /// Physical memory (hypervisor-owned pages such as shared_info).
    type Memory: PhysicalMemory;
    /// The machine-to-physical table.
    type M2p: MachineToPhys;
    /// The running guest's virtual memory.
    fn guest(&mut self) -> &mut Self::Guest;
    /// Physical memory.
    fn memory(&mut self) -> &mut Self::Memory;
    /// Physical memory, the guest's memory and the M2P at once, which the
    /// page-table hypercalls all need.
    fn memory_parts(&mut self) -> (&mut Self::Memory, &mut Self::Guest, &mut Self::M2p);
    /// System time: nanoseconds since the hypervisor booted.
    fn now_ns(&mut self) -> u64;
    /// Writes bytes to the hypervisor console.
    fn console_write(&mut self, bytes: &[u8]);
    /// Reads what console input is waiting, up to `out.len()` bytes.
    fn console_read(&mut self, out: &mut [u8]) -> usize;
    /// Writes a byte, word or doubleword to an I/O port (emulated `out`).
    fn port_write(&mut self, port: u16, size: u8, value: u32);
    /// Reads from an I/O port (emulated `in`).
    fn port_read(&mut self, port: u16, size: u8) -> u32;
    /// Takes `2^order` free frames, machine-contiguous and aligned, all
    /// below frame `limit`, for a guest's reservation (`memory_op`); the
    /// first, or `None` when there is no such run.
    fn allocate_extent(&mut self, order: u32, limit: Mfn) -> Option<Mfn>;
    /// Gives back a frame nothing refers to any more (its domain gave it
    /// up); false if it was not the allocator's.
    fn free_frame(&mut self, mfn: Mfn) -> bool;
    /// Entry `index` of the machine's memory map as the firmware gave it
    /// (`XENMEM_machine_memory_map`), `None` past the last.
    fn machine_map_entry(&mut self, index: usize) -> Option<xen_abi::memory::E820Entry>;
    /// The first machine frame of the M2P table's 2 MiB run `index`
    /// (`XENMEM_machphys_mfn_list`), `None` past the last.
    fn m2p_extent(&mut self, index: usize) -> Option<Mfn>;
}

/// The machine-to-physical table: for every machine frame, the guest
/// pseudo-physical frame it backs (all-ones for none). Guests read it at
/// `MACH2PHYS_VIRT_START`; the hypervisor keeps it current.
pub trait MachineToPhys {
    /// Records that machine frame `mfn` backs guest frame `pfn`.
    fn set(&mut self, mfn: Mfn, pfn: Pfn);
}

/// A source of free machine frames.
pub trait FrameSource {
    /// Takes one free frame, or `None` when memory is exhausted.
    fn allocate_frame(&mut self) -> Option<Mfn>;
}

/// Where frames that are free again go back.
pub trait FrameSink {
    /// Takes frame `mfn` back; false if it was not the allocator's to take
    /// (already free, or out of its range).
    fn free_frame(&mut self, mfn: Mfn) -> bool;
}

impl<const WORDS: usize> FrameSink for crate::mm::frame_allocator::FrameAllocator<WORDS> {
    fn free_frame(&mut self, mfn: Mfn) -> bool {
        self.free(mfn).is_ok()
    }
}

impl<const WORDS: usize> FrameSource for crate::mm::frame_allocator::FrameAllocator<WORDS> {
    fn allocate_frame(&mut self) -> Option<Mfn> {
        self.allocate()
    }
}

#[cfg(test)]
pub mod fake;
#[cfg(test)]
pub mod fake_machine;
#[cfg(test)]
pub mod fake_mmu;

#[cfg(test)]
mod tests {
    use super::PhysicalMemory;
    use super::fake::FakeMemory;

    #[test]
    fn copy_bytes_handles_unaligned_and_overlapping_ranges() {
        let mut memory = FakeMemory::default();
        let text: std::vec::Vec<u8> = (0..600u32).map(|i| (i % 251) as u8).collect();
        memory.write_bytes(0x1003, &text);
        // Forward overlap (destination below), then backward (above).
        memory.copy_bytes(0x1003, 0x1001, 600);
        let mut out = std::vec![0u8; 600];
        memory.read_bytes(0x1001, &mut out);
        assert_eq!(out, text);
        memory.copy_bytes(0x1001, 0x1101, 600);
        memory.read_bytes(0x1101, &mut out);
        assert_eq!(out, text, "a copy upwards over itself reads before it writes");
    }
}
