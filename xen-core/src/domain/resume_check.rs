//! Whether `iretq` to a guest frame is safe for the hypervisor when the
//! frame names the guest's own selectors: a PV guest may return to code and
//! stack segments of its own GDT (Linux's user processes run on its
//! `__USER_CS` and `__USER_DS`), and `iretq` to one that is not usable
//! would fault in ring 0. So the descriptor each selector names is read
//! from the GDT frame the CPU will read it from and checked first: CS a
//! present DPL-3 code segment (64-bit with a canonical RIP, or 32-bit with
//! RIP within its limit), SS a present DPL-3 writable data segment. The
//! flat selectors Xen gives every guest need no look (`TrapFrame::
//! is_safe_guest_return`). LDT selectors are not accepted here.

use super::pv_domain::PvDomain;
use crate::arch::PhysicalMemory;
use crate::mm::layout::is_canonical;
use crate::rflags::{IF, IOPL, VM};
use crate::trap_frame::TrapFrame;
use xen_abi::trap::{FIRST_RESERVED_GDT_ENTRY, FLAT_RING3_CS32, FLAT_RING3_CS64, FLAT_RING3_SS64};

/// Descriptor bits.
const PRESENT: u64 = 1 << 47;
const CODE_OR_DATA: u64 = 1 << 44;
const CODE: u64 = 1 << 43;
const WRITABLE: u64 = 1 << 41;
const LONG: u64 = 1 << 53;
const DEFAULT_32: u64 = 1 << 54;
const GRANULARITY: u64 = 1 << 55;
const DPL_3: u64 = 3 << 45;

impl PvDomain {
    /// Whether `iretq` to `frame` is safe: Xen's flat selectors as
    /// [`TrapFrame::is_safe_guest_return`] checks them, or selectors of the
    /// guest's own GDT whose descriptors make it so.
    pub fn resume_is_safe(&self, memory: &impl PhysicalMemory, frame: &TrapFrame) -> bool {
        if frame.is_safe_guest_return() {
            return true;
        }
        if frame.rflags & IF == 0 || frame.rflags & (IOPL | VM) != 0 {
            return false;
        }
        let cs_ok = match frame.cs {
            cs if cs == u64::from(FLAT_RING3_CS64) => frame.rip_is_canonical(),
            cs if cs == u64::from(FLAT_RING3_CS32) => frame.rip <= u64::from(u32::MAX),
            cs => self.own_descriptor(memory, cs).is_some_and(|descriptor| {
                let code =
                    descriptor & (PRESENT | CODE_OR_DATA | CODE | DPL_3) == PRESENT | CODE_OR_DATA | CODE | DPL_3;
                let long = descriptor & LONG != 0;
                code && if long {
                    descriptor & DEFAULT_32 == 0 && is_canonical(frame.rip)
                } else {
                    frame.rip <= limit(descriptor)
                }
            }),
        };
        let ss_ok = frame.ss == u64::from(FLAT_RING3_SS64)
            || self.own_descriptor(memory, frame.ss).is_some_and(|descriptor| {
                let data = PRESENT | CODE_OR_DATA | WRITABLE | DPL_3;
                descriptor & (data | CODE) == data
            });
        cs_ok && ss_ok
    }

    /// The base a data selector gives when loaded into a segment register:
    /// 0 for the null selector or Xen's flat data selector, the descriptor's
    /// base for a present DPL-3 data segment of the guest's own GDT, `None`
    /// for anything the CPU would refuse.
    pub fn data_segment_base(&self, memory: &impl PhysicalMemory, selector: u16) -> Option<u64> {
        if selector & !3 == 0 || selector == FLAT_RING3_SS64 {
            return Some(0);
        }
        let descriptor = self.own_descriptor(memory, u64::from(selector))?;
        let data = PRESENT | CODE_OR_DATA | DPL_3;
        if descriptor & (data | CODE) != data {
            return None;
        }
        Some((descriptor >> 16) & 0xff_ffff | ((descriptor >> 56) & 0xff) << 24)
    }

    /// The descriptor an RPL-3 selector of the guest's own GDT names, as the
    /// CPU will read it.
    fn own_descriptor(&self, memory: &impl PhysicalMemory, selector: u64) -> Option<u64> {
        if selector > 0xffff || selector & 3 != 3 || selector & 4 != 0 {
            return None;
        }
        self.gdt_descriptor(memory, (selector >> 3) as usize)
    }

    /// Entry `index` of the guest's own GDT, as the CPU will read it; `None`
    /// past its end or in Xen's reserved entries.
    pub(super) fn gdt_descriptor(&self, memory: &impl PhysicalMemory, index: usize) -> Option<u64> {
        if index >= FIRST_RESERVED_GDT_ENTRY || index >= self.vcpu.gdt_entries() {
            return None;
        }
        let frame = self.vcpu.gdt_frames()[index / 512]?;
        Some(memory.read_u64(frame.address() + (index % 512) as u64 * 8))
    }
}

/// A code segment's limit in bytes (last valid offset).
fn limit(descriptor: u64) -> u64 {
    let raw = (descriptor & 0xffff) | ((descriptor >> 48) & 0xf) << 16;
    if descriptor & GRANULARITY != 0 {
        raw << 12 | 0xfff
    } else {
        raw
    }
}
