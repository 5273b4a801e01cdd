//! `mov` to and from the control and debug registers, and `clts`, as Xen
//! emulates them for a PV guest kernel (they #GP at CPL 3 and land here).
//!
//! - CR0 reads as the hypervisor's (PG, AM, WP, NE, ET, MP, PE) with the
//!   guest's virtual TS; a write may change TS alone, as `clts` does.
//! - CR2 is the virtual one: where the last page fault delivered was.
//! - CR3 names the kernel page-table base's frame; a write switches the
//!   base as `MMUEXT_NEW_BASEPTR` does, validating within a budget (an
//!   unfinished validation leaves RIP on the instruction, which goes on
//!   when it runs again).
//! - CR4 reads as PAE, MCE, OSFXSR and OSXMMEXCPT; the bits Xen lets a
//!   guest choose (TSD, DE, FSGSBASE, OSXSAVE) are not offered here, and a
//!   write drops them without a fault, as Xen drops what it does not offer.
//! - DR0–DR7 go through the checks of `set_debugreg`: a refusal is #GP, no
//!   such register #UD.
//!
//! From user mode every one of them is a #GP, as are CR1, CR5–CR15.

use super::pv_domain::PvDomain;
use crate::arch::{GuestMemory, Platform};
use crate::mm::budget::Budget;
use crate::mm::{BaseSwitch, FrameTable, Mfn};
use crate::trap_frame::TrapFrame;
use xen_abi::errno::Errno;

/// CR0 as the guest reads it with TS clear.
pub const GUEST_CR0: u64 = 0x8005_0033;
/// CR0.TS.
const CR0_TS: u64 = 1 << 3;
/// CR4 as the guest reads it: PAE, MCE, OSFXSR, OSXMMEXCPT.
pub const GUEST_CR4: u64 = 0x660;

/// What an emulated register move did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// Done: RIP is past the instruction (or, for an unfinished CR3
    /// switch, still on it).
    Done,
    /// #GP(0) for the guest.
    GeneralProtection,
    /// #UD for the guest (no such debug register).
    InvalidOpcode,
}

/// Emulates `code` (the bytes at RIP) if it is `clts` or a `mov` to or from
/// a control or debug register; `None` if it is neither.
pub fn emulate_register_move(
    domain: &mut PvDomain,
    frame: &mut TrapFrame,
    platform: &mut impl Platform,
    frames: &mut FrameTable<'_>,
    code: &[u8],
) -> Option<Move> {
    let (rex, rest) = match code {
        [rex @ 0x40..=0x4f, rest @ ..] => (*rex, rest),
        rest => (0, rest),
    };
    let (opcode, modrm) = match rest {
        [0x0f, 0x06, ..] => (0x06, 0),
        [0x0f, opcode @ 0x20..=0x23, modrm, ..] => (*opcode, *modrm),
        _ => return None,
    };
    if !domain.vcpu.kernel_mode() {
        return Some(Move::GeneralProtection);
    }
    if opcode == 0x06 {
        domain.vcpu.update_loadable(|state| state.fpu_task_switched = false);
        frame.rip = frame.rip.wrapping_add(2);
        return Some(Move::Done);
    }
    let register = u64::from((modrm >> 3) & 7) | u64::from(rex & 4) << 1;
    let gpr = usize::from(modrm & 7) | usize::from(rex & 1) << 3;
    let length = 3 + u64::from(rex != 0);
    let done = match opcode {
        0x20 => read_control(domain, register).map(|value| *gpr_mut(frame, gpr) = value),
        0x22 => {
            let value = *gpr_mut(frame, gpr);
            match write_control(domain, platform, frames, register, value) {
                Ok(Switch::Finished) => Ok(()),
                // Validation to go on with: run the instruction again.
                Ok(Switch::Unfinished) => return Some(Move::Done),
                Err(error) => Err(error),
            }
        }
        0x21 => domain
            .vcpu
            .debug_register(register)
            .map(|value| *gpr_mut(frame, gpr) = value),
        _ => {
            let value = *gpr_mut(frame, gpr);
            domain.vcpu.set_debug_register(register, value)
        }
    };
    Some(match done {
        Ok(()) => {
            frame.rip = frame.rip.wrapping_add(length);
            Move::Done
        }
        Err(Errno::ENODEV) => Move::InvalidOpcode,
        Err(_) => Move::GeneralProtection,
    })
}

/// Whether a CR3 write finished its switch.
enum Switch {
    Finished,
    Unfinished,
}

fn read_control(domain: &PvDomain, register: u64) -> Result<u64, Errno> {
    let vcpu = &domain.vcpu;
    match register {
        0 => Ok(GUEST_CR0 | if vcpu.loadable().fpu_task_switched { CR0_TS } else { 0 }),
        2 => Ok(vcpu.cr2),
        3 => Ok(vcpu.kernel_base.as_ref().map_or(0, |base| base.mfn().address())),
        4 => Ok(GUEST_CR4),
        _ => Err(Errno::EINVAL),
    }
}

fn write_control(
    domain: &mut PvDomain,
    platform: &mut impl Platform,
    frames: &mut FrameTable<'_>,
    register: u64,
    value: u64,
) -> Result<Switch, Errno> {
    match register {
        0 if value & !CR0_TS == GUEST_CR0 => {
            domain
                .vcpu
                .update_loadable(|state| state.fpu_task_switched = value & CR0_TS != 0);
        }
        2 => domain.vcpu.cr2 = value,
        3 => return new_kernel_base(domain, platform, frames, Mfn(value >> 12)),
        4 => {}
        _ => return Err(Errno::EINVAL),
    }
    Ok(Switch::Finished)
}

/// A CR3 write: `new` becomes the kernel base, as with `MMUEXT_NEW_BASEPTR`
/// (the same frame again flushes the TLB, as on Xen).
fn new_kernel_base(
    domain: &mut PvDomain,
    platform: &mut impl Platform,
    frames: &mut FrameTable<'_>,
    new: Mfn,
) -> Result<Switch, Errno> {
    let owner = domain.id();
    let (memory, guest, _) = platform.memory_parts();
    let mut budget = Budget::per_invocation();
    let switched = (|| {
        if frames.has_jobs() {
            frames.settle(memory, owner, &mut budget)?;
        }
        frames.new_baseptr_within(memory, owner, &mut domain.vcpu.kernel_base, new, &mut budget)
    })();
    match switched {
        Ok(BaseSwitch::Switched { old }) => {
            guest.load_page_table_base(new);
            let _ = frames.take_flush_request();
            if let Some(old) = old {
                frames.put_page_and_type_within(memory, old, &mut budget);
            }
            Ok(Switch::Finished)
        }
        Ok(BaseSwitch::Unchanged) => {
            guest.flush_tlb(crate::mm::tlb_flush::TlbFlush::All);
            Ok(Switch::Finished)
        }
        Err(Errno::ERESTART) => Ok(Switch::Unfinished),
        Err(error) => Err(error),
    }
}

/// General register `index` (the ModRM/REX numbering) in `frame`.
pub(crate) fn gpr_mut(frame: &mut TrapFrame, index: usize) -> &mut u64 {
    match index {
        0 => &mut frame.rax,
        1 => &mut frame.rcx,
        2 => &mut frame.rdx,
        3 => &mut frame.rbx,
        4 => &mut frame.rsp,
        5 => &mut frame.rbp,
        6 => &mut frame.rsi,
        7 => &mut frame.rdi,
        8 => &mut frame.r8,
        9 => &mut frame.r9,
        10 => &mut frame.r10,
        11 => &mut frame.r11,
        12 => &mut frame.r12,
        13 => &mut frame.r13,
        14 => &mut frame.r14,
        _ => &mut frame.r15,
    }
}

#[cfg(test)]
mod tests;
