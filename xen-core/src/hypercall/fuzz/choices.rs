//! The fuzzer's choices resolved against the world as it is: which frame,
//! entry value, address or extended operation an abstract [`FuzzOp`] field
//! stands for.

use super::ops::{EntryChoice, ExtChoice, FrameChoice, VaChoice};
use super::world::{DOMUS, MACHINE_FRAMES, World, base_of, slot_of};
use crate::mm::pte_rules::{ACCESSED, DIRTY, GLOBAL, GNTTAB, NX, PRESENT, PSE, RW, USER};
use crate::mm::{FrameInfo, Mfn, PageType};
use xen_abi::mmu::DomId;
use xen_abi::mmu::*;
use zerocopy::FromZeros;

impl World {
    /// Resolves a frame choice against the world as it is.
    pub(super) fn frame_of(&self, caller: DomId, choice: FrameChoice) -> Mfn {
        let index = usize::from(choice.index);
        let pick = |filter: &dyn Fn(Mfn, &FrameInfo) -> bool| {
            let found: std::vec::Vec<Mfn> = (0..self.frames.frame_count())
                .map(Mfn)
                .filter(|&mfn| self.frames.frame(mfn).is_some_and(|info| filter(mfn, info)))
                .collect();
            found.get(index % found.len().max(1)).copied().unwrap_or(Mfn(0))
        };
        let mine = |info: &FrameInfo| info.owner() == Some(caller);
        let other = DOMUS[(slot_of(caller) + 1 + index % 2) % 3];
        let base = base_of(&self.domains, caller);
        match choice.kind {
            0 => base.unwrap_or(Mfn(0)),
            1 => pick(&|_, info| mine(info) && info.table_level().is_some()),
            2 => pick(&|_, info| mine(info) && info.page_type() == PageType::Writable),
            3 => pick(&|_, info| mine(info) && info.page_type() == PageType::None),
            4 => pick(&|_, info| info.owner() == Some(other) && info.table_level().is_some()),
            5 => pick(&|_, info| info.owner() == Some(other)),
            6 => pick(&|_, info| info.is_free()),
            7 => Mfn(MACHINE_FRAMES - 1 + (index % 3) as u64),
            8 => Mfn(1 << (32 + index % 8)),
            9 => Mfn(u64::MAX >> (index % 13)),
            // Another L4 of the caller's: somewhere to switch to.
            _ => pick(&|mfn, info| mine(info) && info.page_type() == PageType::L4 && Some(mfn) != base),
        }
    }

    /// Resolves an entry choice.
    pub(super) fn entry_of(&self, caller: DomId, choice: EntryChoice) -> u64 {
        const FLAGS: [u64; 8] = [RW, USER, ACCESSED | DIRTY, PSE, GLOBAL, GNTTAB, NX, 1 << 9];
        let flags = FLAGS
            .iter()
            .enumerate()
            .filter(|(bit, _)| choice.flags & (1 << bit) != 0)
            .fold(0, |flags, (_, flag)| flags | flag);
        let present = if choice.present { PRESENT } else { 0 };
        self.frame_of(caller, choice.frame).address() | flags | present
    }

    /// Resolves an address choice.
    pub(super) fn va_of(&self, caller: DomId, choice: VaChoice) -> u64 {
        let (arg, start, end) = self.layout[slot_of(caller)];
        let page = u64::from(choice.page);
        match choice.kind {
            0 | 1 => start + page % ((end - start) / 4096) * 4096,
            2 => arg,
            3 => end + page % 4 * 4096,
            4 => HYPERVISOR_VIRT_START + page * 4096,
            5 => 0x8000_0000_0000_0000 | page,
            6 => page,
            _ => u64::MAX - page % 16,
        }
    }

    /// Resolves an `mmuext_op` choice.
    pub(super) fn ext_of(&self, caller: DomId, choice: ExtChoice) -> MmuextOp {
        const COMMANDS: [u32; 12] = [
            MMUEXT_PIN_L1_TABLE,
            MMUEXT_PIN_L2_TABLE,
            MMUEXT_PIN_L3_TABLE,
            MMUEXT_PIN_L4_TABLE,
            MMUEXT_UNPIN_TABLE,
            MMUEXT_NEW_BASEPTR,
            MMUEXT_CLEAR_PAGE,
            MMUEXT_COPY_PAGE,
            MMUEXT_TLB_FLUSH_LOCAL,
            MMUEXT_INVLPG_LOCAL,
            MMUEXT_NEW_USER_BASEPTR,
            MMUEXT_SET_LDT,
        ];
        let cmd = COMMANDS[usize::from(choice.command) % COMMANDS.len()];
        let arg1 = if cmd == MMUEXT_INVLPG_LOCAL {
            self.va_of(caller, choice.va)
        } else {
            self.frame_of(caller, choice.frame).0
        };
        MmuextOp {
            cmd,
            arg1,
            arg2: self.frame_of(caller, choice.source).0,
            ..MmuextOp::new_zeroed()
        }
    }
}
