//! shared_info as the guest sees it: vCPU 0's event flags and time, the
//! event bitmaps and the wall clock; and [`SharedMemory`], how the SDK
//! reaches every page it shares.
//!
//! The hypervisor writes the page while the guest runs, so every access is
//! one atomic operation on a word or byte ([`SharedMemory`]); the time
//! records are read under their version counters. [`map`] puts the real
//! frame at the SDK's page; until then the page reads as zeroes.

use crate::XenError;
use crate::start_info::StartInfo;
use core::mem::offset_of;
use xen_abi::event_channel::{EVTCHN_2L_NR_CHANNELS, EvtchnPort};
use xen_abi::shared_info::{SharedInfo as Layout, VcpuInfo, VcpuTimeInfo};

/// Atomic access to the shared page, by byte offset. Offsets are the
/// layout's own, so always in bounds and aligned.
pub trait SharedMemory {
    /// Reads the word at `offset`.
    fn load(&self, offset: usize) -> u64;
    /// Replaces the word at `offset`; the old value.
    fn swap(&self, offset: usize, value: u64) -> u64;
    /// Clears the bits not in `keep`; the old value.
    fn fetch_and(&self, offset: usize, keep: u64) -> u64;
    /// Sets `bits`; the old value.
    fn fetch_or(&self, offset: usize, bits: u64) -> u64;
    /// Reads the byte at `offset`.
    fn load_u8(&self, offset: usize) -> u8;
    /// Writes the byte at `offset`, ordered before any later read.
    fn store_u8(&self, offset: usize, value: u8);
    /// Writes the word at `offset`.
    fn store(&self, offset: usize, value: u64) {
        self.swap(offset, value);
    }
    /// Replaces the word at `offset` with `new` if it holds `current`.
    fn compare_exchange(&self, offset: usize, current: u64, new: u64) -> Result<u64, u64>;
}

/// The SDK's shared area (shared_info at offset 0, then the grant table
/// and the grant window). On the host (tests of the SDK's logic) it reads
/// as zeroes and ignores writes.
#[derive(Clone, Copy, Debug, Default)]
pub struct SharedPage;

#[cfg(target_os = "none")]
impl SharedMemory for SharedPage {
    fn load(&self, offset: usize) -> u64 {
        crate::arch::shared_page::load(offset)
    }
    fn swap(&self, offset: usize, value: u64) -> u64 {
        crate::arch::shared_page::swap(offset, value)
    }
    fn fetch_and(&self, offset: usize, keep: u64) -> u64 {
        crate::arch::shared_page::fetch_and(offset, keep)
    }
    fn fetch_or(&self, offset: usize, bits: u64) -> u64 {
        crate::arch::shared_page::fetch_or(offset, bits)
    }
    fn load_u8(&self, offset: usize) -> u8 {
        crate::arch::shared_page::load_u8(offset)
    }
    fn store_u8(&self, offset: usize, value: u8) {
        crate::arch::shared_page::store_u8(offset, value)
    }
    fn store(&self, offset: usize, value: u64) {
        crate::arch::shared_page::store(offset, value)
    }
    fn compare_exchange(&self, offset: usize, current: u64, new: u64) -> Result<u64, u64> {
        crate::arch::shared_page::compare_exchange(offset, current, new)
    }
}

#[cfg(not(target_os = "none"))]
impl SharedMemory for SharedPage {
    fn load(&self, _offset: usize) -> u64 {
        0
    }
    fn swap(&self, _offset: usize, _value: u64) -> u64 {
        0
    }
    fn fetch_and(&self, _offset: usize, _keep: u64) -> u64 {
        0
    }
    fn fetch_or(&self, _offset: usize, _bits: u64) -> u64 {
        0
    }
    fn load_u8(&self, _offset: usize) -> u8 {
        0
    }
    fn store_u8(&self, _offset: usize, _value: u8) {}
    fn compare_exchange(&self, _offset: usize, _current: u64, _new: u64) -> Result<u64, u64> {
        Err(0)
    }
}

/// Byte offsets of vCPU 0's fields and of the shared bitmaps.
const UPCALL_PENDING: usize = offset_of!(VcpuInfo, evtchn_upcall_pending);
const UPCALL_MASK: usize = offset_of!(VcpuInfo, evtchn_upcall_mask);
const PENDING_SELECTOR: usize = offset_of!(VcpuInfo, evtchn_pending_sel);
const TIME: usize = offset_of!(VcpuInfo, time);
const CR2: usize = offset_of!(VcpuInfo, arch.cr2);
const PENDING: usize = offset_of!(Layout, evtchn_pending);
const MASK: usize = offset_of!(Layout, evtchn_mask);
const WALLCLOCK: usize = offset_of!(Layout, wc_version);

/// The word of a bitmap holding `port`'s bit, and the bit; `None` for a
/// port the two-level ABI does not have.
fn bit(base: usize, port: EvtchnPort) -> Option<(usize, u64)> {
    let port = usize::try_from(port)
        .ok()
        .filter(|&port| port < EVTCHN_2L_NR_CHANNELS)?;
    Some((base + port / 64 * 8, 1 << (port % 64)))
}

/// vCPU 0's view of shared_info over some [`SharedMemory`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SharedInfo<M: SharedMemory> {
    memory: M,
}

/// The SDK's own shared_info.
pub const SHARED_INFO: SharedInfo<SharedPage> = SharedInfo { memory: SharedPage };

impl<M: SharedMemory> SharedInfo<M> {
    /// The view over `memory`.
    pub const fn new(memory: M) -> Self {
        SharedInfo { memory }
    }

    /// Tells the hypervisor one past the highest pseudo-physical frame the
    /// kernel uses (`arch.max_pfn`, what `XENMEM_maximum_gpfn` reports; Linux
    /// keeps it as its p2m grows).
    pub fn set_max_pfn(&self, pfn: u64) {
        self.memory.store(
            core::mem::offset_of!(xen_abi::shared_info::SharedInfo, arch.max_pfn),
            pfn,
        );
    }

    /// Whether the hypervisor flagged an upcall.
    pub fn upcall_pending(&self) -> bool {
        self.memory.load_u8(UPCALL_PENDING) != 0
    }

    /// Acknowledges the upcall flag (before the bitmaps are scanned, so a
    /// port raised during the scan flags a new one).
    pub fn clear_upcall_pending(&self) {
        self.memory.store_u8(UPCALL_PENDING, 0);
    }

    /// Whether upcalls are masked (the virtual "interrupts off").
    pub fn events_masked(&self) -> bool {
        self.memory.load_u8(UPCALL_MASK) != 0
    }

    /// Masks or unmasks upcalls; whether they were masked before.
    pub fn set_events_masked(&self, masked: bool) -> bool {
        let before = self.events_masked();
        self.memory.store_u8(UPCALL_MASK, u8::from(masked));
        before
    }

    /// Takes the pending selector: one bit per bitmap word with a newly
    /// pending port.
    pub fn take_selector(&self) -> u64 {
        self.memory.swap(PENDING_SELECTOR, 0)
    }

    /// Word `word` (0-63) of the pending bitmap.
    pub fn pending_word(&self, word: usize) -> u64 {
        self.memory.load(PENDING + word % 64 * 8)
    }

    /// Word `word` (0-63) of the mask bitmap.
    pub fn mask_word(&self, word: usize) -> u64 {
        self.memory.load(MASK + word % 64 * 8)
    }

    /// Clears `bits` in word `word` of the pending bitmap.
    pub fn clear_pending_bits(&self, word: usize, bits: u64) {
        self.memory.fetch_and(PENDING + word % 64 * 8, !bits);
    }

    /// Whether `port` is pending.
    pub fn is_pending(&self, port: EvtchnPort) -> bool {
        bit(PENDING, port).is_some_and(|(offset, bit)| self.memory.load(offset) & bit != 0)
    }

    /// Clears `port`'s pending bit; whether it was set.
    pub fn clear_pending(&self, port: EvtchnPort) -> bool {
        bit(PENDING, port).is_some_and(|(offset, bit)| self.memory.fetch_and(offset, !bit) & bit != 0)
    }

    /// Masks `port`: it may still become pending, but raises no upcall.
    /// Unmasking goes through the hypervisor, which then delivers what
    /// became pending meanwhile ([`crate::event_channel::unmask`]).
    pub fn mask(&self, port: EvtchnPort) {
        if let Some((offset, bit)) = bit(MASK, port) {
            self.memory.fetch_or(offset, bit);
        }
    }

    /// Masks every port.
    pub fn mask_all(&self) {
        for word in 0..64 {
            self.memory.fetch_or(MASK + word * 8, u64::MAX);
        }
    }

    /// Whether `port` is masked.
    pub fn is_masked(&self, port: EvtchnPort) -> bool {
        bit(MASK, port).is_some_and(|(offset, bit)| self.memory.load(offset) & bit != 0)
    }

    /// Where the last page fault delivered to vCPU 0 was: the hypervisor
    /// writes CR2 here before it bounces a #PF.
    pub fn fault_address(&self) -> u64 {
        self.memory.load(CR2)
    }

    /// One copy of vCPU 0's time record, possibly torn: read it through
    /// [`crate::time::system_time`], which checks the version.
    pub fn vcpu_time(&self) -> VcpuTimeInfo {
        let word = |index: usize| self.memory.load(TIME + index * 8);
        let [version, tsc_timestamp, system_time, scale] = [word(0), word(1), word(2), word(3)];
        VcpuTimeInfo {
            version: version as u32,
            pad0: 0,
            tsc_timestamp,
            system_time,
            tsc_to_system_mul: scale as u32,
            tsc_shift: (scale >> 32) as u8 as i8,
            flags: (scale >> 40) as u8,
            pad1: [0; 2],
        }
    }

    /// The wall clock at system time 0: (seconds since the Unix epoch,
    /// nanoseconds), read under its version counter.
    pub fn wallclock(&self) -> (u64, u32) {
        loop {
            let first = self.memory.load(WALLCLOCK);
            let rest = self.memory.load(WALLCLOCK + 8);
            let again = self.memory.load(WALLCLOCK);
            let version = first as u32;
            if version.is_multiple_of(2) && first == again {
                let seconds = (first >> 32) | (rest >> 32) << 32;
                return (seconds, rest as u32);
            }
            core::hint::spin_loop();
        }
    }
}

/// Maps the hypervisor's shared_info frame (a machine address in
/// `start_info`) at the SDK's page, writable, as every PV kernel does at
/// boot. Events and time need it.
pub fn map(info: &StartInfo) -> Result<(), XenError> {
    use crate::page_table::{ACCESSED, ADDRESS_MASK, DIRTY, PRESENT, RW};
    let entry = (info.shared_info & ADDRESS_MASK) | PRESENT | RW | ACCESSED | DIRTY;
    crate::hypercall::update_va_mapping(page_address(), entry, xen_abi::mmu::UVMF_INVLPG)
}

/// Where the SDK keeps shared_info.
pub fn page_address() -> u64 {
    #[cfg(target_os = "none")]
    {
        crate::shared_area::address(crate::shared_area::SHARED_INFO)
    }
    #[cfg(not(target_os = "none"))]
    {
        0
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use core::cell::RefCell;

    /// A page in host memory.
    pub(crate) struct FakePage(pub RefCell<[u8; 4096]>);

    impl FakePage {
        pub(crate) fn new() -> Self {
            FakePage(RefCell::new([0; 4096]))
        }
        fn update(&self, offset: usize, change: impl FnOnce(u64) -> u64) -> u64 {
            let mut page = self.0.borrow_mut();
            let bytes: &mut [u8; 8] = (&mut page[offset..offset + 8]).try_into().unwrap();
            let old = u64::from_le_bytes(*bytes);
            *bytes = change(old).to_le_bytes();
            old
        }
    }

    impl SharedMemory for &FakePage {
        fn load(&self, offset: usize) -> u64 {
            self.update(offset, |old| old)
        }
        fn swap(&self, offset: usize, value: u64) -> u64 {
            self.update(offset, |_| value)
        }
        fn fetch_and(&self, offset: usize, keep: u64) -> u64 {
            self.update(offset, |old| old & keep)
        }
        fn fetch_or(&self, offset: usize, bits: u64) -> u64 {
            self.update(offset, |old| old | bits)
        }
        fn load_u8(&self, offset: usize) -> u8 {
            self.0.borrow()[offset]
        }
        fn store_u8(&self, offset: usize, value: u8) {
            self.0.borrow_mut()[offset] = value;
        }
        fn compare_exchange(&self, offset: usize, current: u64, new: u64) -> Result<u64, u64> {
            let old = self.load(offset);
            if old == current {
                self.swap(offset, new);
                Ok(old)
            } else {
                Err(old)
            }
        }
    }

    #[test]
    fn port_bits_land_where_xens_layout_puts_them() {
        let page = FakePage::new();
        let shared = SharedInfo::new(&page);
        (&page).fetch_or(PENDING + 8, 1 << 6); // port 70
        assert!(shared.is_pending(70));
        assert!(!shared.is_pending(6));
        assert_eq!(PENDING, 2048, "evtchn_pending follows 32 vcpu_info of 64 bytes");
        shared.mask(4095);
        assert_eq!((&page).load(MASK + 63 * 8), 1 << 63);
        assert!(shared.is_masked(4095));
        shared.mask(4096); // beyond the two-level ABI: ignored, not a panic
        assert!(!shared.is_pending(u32::MAX));
        assert!(shared.clear_pending(70));
        assert!(!shared.clear_pending(70), "already clear");
    }

    #[test]
    fn the_time_record_and_wall_clock_are_read_field_by_field() {
        let page = FakePage::new();
        let shared = SharedInfo::new(&page);
        (&page).swap(TIME, 6);
        (&page).swap(TIME + 8, 0x1111);
        (&page).swap(TIME + 16, 0x2222);
        (&page).swap(TIME + 24, 0x03fe_8000_0000); // flags 3, shift -2, mul 2^31
        let time = shared.vcpu_time();
        assert_eq!(
            (time.version, time.tsc_timestamp, time.system_time),
            (6, 0x1111, 0x2222)
        );
        assert_eq!((time.tsc_to_system_mul, time.tsc_shift, time.flags), (1 << 31, -2, 3));
        (&page).swap(WALLCLOCK, 2 | 1_700_000_000 << 32);
        (&page).swap(WALLCLOCK + 8, 500 | 1 << 32);
        assert_eq!(shared.wallclock(), ((1 << 32) + 1_700_000_000, 500));
    }

    #[test]
    fn masking_upcalls_reports_the_state_before() {
        let page = FakePage::new();
        let shared = SharedInfo::new(&page);
        assert!(!shared.set_events_masked(true));
        assert!(shared.events_masked());
        assert_eq!(page.0.borrow()[1], 1, "evtchn_upcall_mask is byte 1 of vcpu_info[0]");
        assert!(shared.set_events_masked(false));
    }
}
