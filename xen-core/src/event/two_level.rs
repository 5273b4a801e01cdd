//! The two-level event ABI in shared_info: the pending and mask bitmaps, each
//! vCPU's pending selector and upcall flag, and the rules that connect them.
//!
//! Every bit the guest may write at the same time is changed with one atomic
//! read-modify-write ([`PhysicalMemory::fetch_or_u64`]); plain reads are used
//! only where a stale value is harmless (Xen's `guest_test_bit`).

use super::channel::Port;
use crate::arch::PhysicalMemory;
use crate::mm::Mfn;
use core::mem::offset_of;
use xen_abi::shared_info::{SharedInfo, VcpuInfo};

const PENDING: u64 = offset_of!(SharedInfo, evtchn_pending) as u64;
const MASK: u64 = offset_of!(SharedInfo, evtchn_mask) as u64;
const VCPU_INFO_SIZE: u64 = size_of::<VcpuInfo>() as u64;
const SELECTOR: u64 = offset_of!(VcpuInfo, evtchn_pending_sel) as u64;
// `evtchn_upcall_pending` and `evtchn_upcall_mask` are bytes of the word at
// offset 0 of `vcpu_info` (Xen tests them together as a u16).
/// Where `evtchn_upcall_pending` sits in the first word of `vcpu_info`.
const UPCALL_PENDING_SHIFT: u64 = offset_of!(VcpuInfo, evtchn_upcall_pending) as u64 * 8;
/// Where `evtchn_upcall_mask` sits in the first word of `vcpu_info`.
pub(crate) const UPCALL_MASK_SHIFT: u64 = offset_of!(VcpuInfo, evtchn_upcall_mask) as u64 * 8;
const UPCALL_PENDING_BIT: u64 = 1 << UPCALL_PENDING_SHIFT;
pub(crate) const UPCALL_PENDING_BYTE: u64 = 0xff << UPCALL_PENDING_SHIFT;
const UPCALL_MASK_BYTE: u64 = 0xff << UPCALL_MASK_SHIFT;
const _: () = assert!(UPCALL_PENDING_SHIFT < 64 && UPCALL_MASK_SHIFT < 64);

/// One domain's event bits, in its shared_info frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TwoLevel {
    shared_info: Mfn,
    /// Physical address of vCPU 0's `vcpu_info`: in shared_info, or where
    /// the guest moved it (`VCPUOP_register_vcpu_info`).
    vcpu_info: u64,
}

/// The word holding bit `port` of the bitmap at `base`, and the bit in it.
fn bit(shared_info: Mfn, base: u64, port: Port) -> (u64, u64) {
    let port = u64::from(port);
    (shared_info.address() + base + port / 64 * 8, 1 << (port % 64))
}

impl TwoLevel {
    /// The bits in `shared_info`.
    pub const fn new(shared_info: Mfn) -> Self {
        TwoLevel {
            shared_info,
            vcpu_info: shared_info.address(),
        }
    }

    /// The bits of a domain whose vCPU 0 keeps its `vcpu_info` at physical
    /// address `vcpu_info`.
    pub const fn with_vcpu_info(shared_info: Mfn, vcpu_info: u64) -> Self {
        TwoLevel { shared_info, vcpu_info }
    }

    /// The physical address of byte `offset` of `vcpu`'s `vcpu_info`.
    fn vcpu_word(&self, vcpu: u8, offset: u64) -> u64 {
        if vcpu == 0 {
            return self.vcpu_info + offset;
        }
        self.shared_info.address() + u64::from(vcpu) * VCPU_INFO_SIZE + offset
    }

    /// Sets `port` pending; whether it already was.
    pub fn test_and_set_pending(&self, memory: &mut impl PhysicalMemory, port: Port) -> bool {
        let (word, bit) = bit(self.shared_info, PENDING, port);
        memory.fetch_or_u64(word, bit) & bit != 0
    }

    /// Clears `port`'s pending bit.
    pub fn clear_pending(&self, memory: &mut impl PhysicalMemory, port: Port) {
        let (word, bit) = bit(self.shared_info, PENDING, port);
        memory.fetch_and_u64(word, !bit);
    }

    /// Whether `port` is pending.
    pub fn is_pending(&self, memory: &impl PhysicalMemory, port: Port) -> bool {
        let (word, bit) = bit(self.shared_info, PENDING, port);
        memory.read_u64(word) & bit != 0
    }

    /// Whether `port` is masked.
    pub fn is_masked(&self, memory: &impl PhysicalMemory, port: Port) -> bool {
        let (word, bit) = bit(self.shared_info, MASK, port);
        memory.read_u64(word) & bit != 0
    }

    /// Masks `port`.
    pub fn set_masked(&self, memory: &mut impl PhysicalMemory, port: Port) {
        let (word, bit) = bit(self.shared_info, MASK, port);
        memory.fetch_or_u64(word, bit);
    }

    /// Unmasks `port`; whether it was masked.
    pub fn test_and_clear_mask(&self, memory: &mut impl PhysicalMemory, port: Port) -> bool {
        let (word, bit) = bit(self.shared_info, MASK, port);
        memory.fetch_and_u64(word, !bit) & bit != 0
    }

    /// Sets every bit of `vcpu`'s pending selector, so that the guest scans
    /// the whole pending bitmap at its next upcall.
    pub fn select_all(&self, memory: &mut impl PhysicalMemory, vcpu: u8) {
        memory.fetch_or_u64(self.vcpu_word(vcpu, SELECTOR), u64::MAX);
    }

    /// Sets the selector bit of `port`'s word for `vcpu`; whether it already was.
    pub fn test_and_set_selector(&self, memory: &mut impl PhysicalMemory, vcpu: u8, port: Port) -> bool {
        let bit = 1 << (port / 64);
        memory.fetch_or_u64(self.vcpu_word(vcpu, SELECTOR), bit) & bit != 0
    }

    /// Sets `vcpu`'s `evtchn_upcall_pending`; whether it was clear before.
    pub fn mark_upcall_pending(&self, memory: &mut impl PhysicalMemory, vcpu: u8) -> bool {
        memory.fetch_or_u64(self.vcpu_word(vcpu, 0), UPCALL_PENDING_BIT) & UPCALL_PENDING_BYTE == 0
    }

    /// Whether an upcall is due: `evtchn_upcall_pending` set and
    /// `evtchn_upcall_mask` clear (the check made on every return to the guest).
    pub fn upcall_deliverable(&self, memory: &impl PhysicalMemory, vcpu: u8) -> bool {
        let word = memory.read_u64(self.vcpu_word(vcpu, 0));
        word & UPCALL_PENDING_BYTE != 0 && word & UPCALL_MASK_BYTE == 0
    }

    /// Raises `port` for `vcpu` (Xen's `evtchn_2l_set_pending`). Returns what
    /// changed, for waking the vCPU: nothing if the port was already
    /// pending.
    pub fn raise(&self, memory: &mut impl PhysicalMemory, vcpu: u8, port: Port) -> Raised {
        if self.test_and_set_pending(memory, port) {
            return Raised::AlreadyPending;
        }
        if !self.is_masked(memory, port)
            && !self.test_and_set_selector(memory, vcpu, port)
            && self.mark_upcall_pending(memory, vcpu)
        {
            return Raised::UpcallNewlyPending;
        }
        Raised::Pending
    }

    /// Unmasks `port` (Xen's `evtchn_2l_unmask`): if it is pending, its
    /// selector bit and the upcall are set as a raise would have. Whether an
    /// upcall became pending.
    pub fn unmask(&self, memory: &mut impl PhysicalMemory, vcpu: u8, port: Port) -> bool {
        self.test_and_clear_mask(memory, port)
            && self.is_pending(memory, port)
            && !self.test_and_set_selector(memory, vcpu, port)
            && self.mark_upcall_pending(memory, vcpu)
    }
}

/// What raising a port changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Raised {
    /// It was pending already: nothing happened.
    AlreadyPending,
    /// Newly pending, but masked or already announced: no new upcall.
    Pending,
    /// Newly pending and the vCPU's upcall flag went from clear to set.
    UpcallNewlyPending,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::fake::FakeMemory;

    const SHARED: Mfn = Mfn(0x40);

    fn vcpu_word(memory: &FakeMemory) -> u64 {
        memory.read_u64(SHARED.address())
    }

    #[test]
    fn a_raise_sets_pending_selector_and_upcall_once() {
        let mut memory = FakeMemory::default();
        let bits = TwoLevel::new(SHARED);
        assert_eq!(bits.raise(&mut memory, 0, 130), Raised::UpcallNewlyPending);
        assert_eq!(
            memory.read_u64(SHARED.address() + 2048 + 16),
            1 << 2,
            "port 130: word 2, bit 2"
        );
        assert_eq!(memory.read_u64(SHARED.address() + 8), 1 << 2, "selector bit 2");
        assert_eq!(vcpu_word(&memory) & UPCALL_PENDING_BYTE, UPCALL_PENDING_BIT);
        assert_eq!(bits.raise(&mut memory, 0, 130), Raised::AlreadyPending);
        assert_eq!(
            bits.raise(&mut memory, 0, 131),
            Raised::Pending,
            "same word: selector already set"
        );
    }

    #[test]
    fn a_masked_port_stays_quiet_until_unmasked() {
        let mut memory = FakeMemory::default();
        let bits = TwoLevel::new(SHARED);
        bits.set_masked(&mut memory, 5);
        assert_eq!(bits.raise(&mut memory, 0, 5), Raised::Pending);
        assert!(bits.is_pending(&memory, 5));
        assert_eq!(
            memory.read_u64(SHARED.address() + 8),
            0,
            "no selector bit for a masked port"
        );
        assert!(!bits.upcall_deliverable(&memory, 0));
        assert!(bits.unmask(&mut memory, 0, 5), "unmasking a pending port announces it");
        assert!(bits.upcall_deliverable(&memory, 0));
        assert!(!bits.unmask(&mut memory, 0, 5), "not masked any more: nothing to do");
    }

    #[test]
    fn the_upcall_mask_blocks_delivery_but_not_the_flag() {
        let mut memory = FakeMemory::default();
        memory.write_u64(SHARED.address(), 1 << UPCALL_MASK_SHIFT); // evtchn_upcall_mask = 1
        let bits = TwoLevel::new(SHARED);
        assert_eq!(bits.raise(&mut memory, 0, 1), Raised::UpcallNewlyPending);
        assert!(!bits.upcall_deliverable(&memory, 0));
        memory.write_u64(SHARED.address(), 1);
        assert!(bits.upcall_deliverable(&memory, 0));
    }

    #[test]
    fn other_vcpus_have_their_own_selector_and_flag() {
        let mut memory = FakeMemory::default();
        let bits = TwoLevel::new(SHARED);
        bits.raise(&mut memory, 3, 64);
        assert_eq!(memory.read_u64(SHARED.address() + 3 * 64 + 8), 1 << 1);
        assert!(bits.upcall_deliverable(&memory, 3));
        assert!(!bits.upcall_deliverable(&memory, 0));
    }
}
