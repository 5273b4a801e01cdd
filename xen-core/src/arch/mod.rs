//! The arch seam: what portable code needs from the machine.
//!
//! The kernel image implements these traits over real hardware; host tests
//! implement them over a fake machine, so the logic above the seam runs under
//! `cargo test` unchanged.

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

/// Raw access to the running guest's virtual memory, as its page tables map it.
///
/// Implementations must recover from faults (an unmapped page, a write to a
/// read-only page) and report them as [`GuestFault`]; they do not check that
/// the range is guest space, which `crate::guest_copy` does before calling.
pub trait GuestMemory {
    /// Copies `out.len()` bytes from guest virtual `address`.
    fn read(&mut self, address: u64, out: &mut [u8]) -> Result<(), GuestFault>;
    /// Copies `data` to guest virtual `address`.
    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), GuestFault>;
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
    /// Drops the running vCPU's TLB entries that `flush` names.
    fn flush_tlb(&mut self, flush: TlbFlush);
    /// Makes the validated L4 `l4` the running vCPU's page-table base (loads
    /// CR3, which also flushes its TLB).
    fn load_page_table_base(&mut self, l4: Mfn);
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

impl<const WORDS: usize> FrameSource for crate::mm::frame_allocator::FrameAllocator<WORDS> {
    fn allocate_frame(&mut self) -> Option<Mfn> {
        self.allocate()
    }
}

/// A fake machine for host tests: sparse physical memory.
#[cfg(test)]
pub mod fake {
    use super::*;
    use crate::mm::mfn::PAGE_SIZE;
    use std::collections::BTreeMap;

    /// Sparse physical memory; unwritten words read as zero.
    #[derive(Default)]
    pub struct FakeMemory {
        /// Frames that have been written, by frame number.
        pub frames: BTreeMap<u64, [u64; 512]>,
    }

    impl PhysicalMemory for FakeMemory {
        fn read_u64(&self, address: u64) -> u64 {
            assert_eq!(address % 8, 0, "misaligned word read at {address:#x}");
            self.frames
                .get(&(address / PAGE_SIZE))
                .map_or(0, |frame| frame[(address % PAGE_SIZE / 8) as usize])
        }

        fn write_u64(&mut self, address: u64, value: u64) {
            assert_eq!(address % 8, 0, "misaligned word write at {address:#x}");
            let frame = self.frames.entry(address / PAGE_SIZE).or_insert([0; 512]);
            frame[(address % PAGE_SIZE / 8) as usize] = value;
        }

        fn zero_frame(&mut self, mfn: Mfn) {
            self.frames.insert(mfn.0, [0; 512]);
        }
    }

    /// Guest virtual memory as a sparse set of pages, each readable and
    /// optionally writable; everything else faults.
    #[derive(Default)]
    pub struct FakeGuestMemory {
        /// Mapped pages by page number: contents and whether writes are allowed.
        pub pages: BTreeMap<u64, (std::vec::Vec<u8>, bool)>,
    }

    impl FakeGuestMemory {
        /// Maps a zeroed page at `address` (page-aligned).
        pub fn map(&mut self, address: u64, writable: bool) {
            self.pages
                .insert(address / PAGE_SIZE, (std::vec![0; PAGE_SIZE as usize], writable));
        }
    }

    impl GuestMemory for FakeGuestMemory {
        fn read(&mut self, address: u64, out: &mut [u8]) -> Result<(), GuestFault> {
            for (offset, byte) in out.iter_mut().enumerate() {
                let at = address.wrapping_add(offset as u64);
                let (page, _) = self.pages.get(&(at / PAGE_SIZE)).ok_or(GuestFault { address: at })?;
                *byte = page[(at % PAGE_SIZE) as usize];
            }
            Ok(())
        }

        fn write(&mut self, address: u64, data: &[u8]) -> Result<(), GuestFault> {
            for (offset, byte) in data.iter().enumerate() {
                let at = address.wrapping_add(offset as u64);
                match self.pages.get_mut(&(at / PAGE_SIZE)) {
                    Some((page, true)) => page[(at % PAGE_SIZE) as usize] = *byte,
                    _ => return Err(GuestFault { address: at }),
                }
            }
            Ok(())
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
        /// The guest's virtual memory.
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
        /// TLB flushes done, in order.
        pub flushes: std::vec::Vec<TlbFlush>,
        /// Page-table bases loaded, in order.
        pub bases: std::vec::Vec<Mfn>,
        /// System time (ns).
        pub now: u64,
    }

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

        fn flush_tlb(&mut self, flush: TlbFlush) {
            self.flushes.push(flush);
        }

        fn load_page_table_base(&mut self, l4: Mfn) {
            self.bases.push(l4);
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
}

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
