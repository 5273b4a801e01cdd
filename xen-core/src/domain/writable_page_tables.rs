//! Writable page tables (Xen's `ptwr`, `VMASST_TYPE_writable_pagetables`):
//! a guest kernel that writes to one of its own L1 tables, which it maps
//! read-only, takes a write fault; the hypervisor decodes the instruction
//! (`yaxpeax-x86`), validates the new entry exactly as the same
//! `mmu_update` would, applies it and steps over the instruction. A write
//! that would not be allowed, or one this emulation does not handle,
//! leaves the fault to the guest, as Xen does.
//!
//! Handled: `mov` of a register or an immediate, `xchg` and `cmpxchg`
//! (with or without `lock`), 4 or 8 bytes, naturally aligned, in kernel
//! mode, to an L1 of the domain's own that is in use.

use super::pv_domain::PvDomain;
use super::register_moves::gpr_mut;
use crate::arch::{GuestMemory, PhysicalMemory, Platform};
use crate::guest_copy::copy_from_guest;
use crate::mm::guest_walk::guest_frame;
use crate::mm::{FrameTable, TableLevel};
use crate::trap_frame::TrapFrame;
use xen_abi::mmu::VMASST_TYPE_WRITABLE_PAGETABLES;
use yaxpeax_arch::{Decoder, LengthedInstruction, U8Reader};
use yaxpeax_x86::long_mode::{InstDecoder, Opcode, Operand, register_class};

/// Page-fault error-code bits: present, write, user, reserved bit, fetch.
const PF_PRESENT: u64 = 1 << 0;
const PF_WRITE: u64 = 1 << 1;
const PF_RESERVED: u64 = 1 << 3;
const PF_FETCH: u64 = 1 << 4;
/// The zero flag, which `cmpxchg` reports in.
const ZF: u64 = 1 << 6;
/// The longest x86 instruction.
const MAX_INSTRUCTION: usize = 15;

/// Emulates the write at `address` that raised a page fault with
/// `error_code`, if it is a write to one of the domain's own L1 tables that
/// the same `mmu_update` would allow. Returns whether it did (RIP is then
/// past the instruction); otherwise the fault is the guest's.
pub fn emulate_page_table_write(
    domain: &PvDomain,
    frame: &mut TrapFrame,
    platform: &mut impl Platform,
    frames: &mut FrameTable<'_>,
    address: u64,
    error_code: u64,
) -> bool {
    let is_protection_write = error_code & (PF_PRESENT | PF_WRITE | PF_RESERVED | PF_FETCH) == PF_PRESENT | PF_WRITE;
    if !domain.vm_assist(VMASST_TYPE_WRITABLE_PAGETABLES) || !domain.vcpu.kernel_mode() || !is_protection_write {
        return false;
    }
    let Some(base) = domain.vcpu.kernel_base.as_ref().map(|base| base.mfn()) else {
        return false;
    };
    let Some(table) = guest_frame(platform.memory(), base, address) else {
        return false;
    };
    let owner = domain.id();
    let is_own_l1 = frames.frame(table).is_some_and(|info| info.owner() == Some(owner))
        && frames.page_table_level(table) == Some(TableLevel::L1);
    if !is_own_l1 {
        return false;
    }
    let Some(write) = decode(platform.guest(), frame.rip) else {
        return false;
    };
    let offset = address & 0xfff;
    if !offset.is_multiple_of(write.size) {
        return false;
    }
    let (memory, _, _) = platform.memory_parts();
    let index = (offset / 8) as usize;
    let slot = table.address() + index as u64 * 8;
    let old = memory.read_u64(slot);
    let shift = (offset % 8) * 8;
    let mask = if write.size == 8 {
        u64::MAX
    } else {
        (1 << (write.size * 8)) - 1
    };
    let old_part = (old >> shift) & mask;
    let value = match write.source {
        Source::Register(index) => *gpr_mut(frame, index) & mask,
        Source::Immediate(value) => value as u64 & mask,
    };
    if write.opcode == Opcode::CMPXCHG && frame.rax & mask != old_part {
        // Not equal: no write; the accumulator gets what is there.
        set_part(&mut frame.rax, old_part, write.size);
        frame.rflags &= !ZF;
        frame.rip = frame.rip.wrapping_add(write.length);
        return true;
    }
    let new = (old & !(mask << shift)) | value << shift;
    if frames.mod_entry(memory, table, index, new, owner, owner).is_err() {
        return false;
    }
    match write.opcode {
        Opcode::XCHG => {
            if let Source::Register(index) = write.source {
                set_part(gpr_mut(frame, index), old_part, write.size);
            }
        }
        Opcode::CMPXCHG => frame.rflags |= ZF,
        _ => {}
    }
    frame.rip = frame.rip.wrapping_add(write.length);
    true
}

/// A decoded write to memory.
struct Write {
    opcode: Opcode,
    source: Source,
    size: u64,
    length: u64,
}

/// Where a written value comes from.
enum Source {
    /// General register, numbered as in ModRM.
    Register(usize),
    /// An immediate, sign-extended.
    Immediate(i64),
}

/// The instruction at `rip`, if it is a write this emulation handles.
fn decode(guest: &mut impl GuestMemory, rip: u64) -> Option<Write> {
    let mut bytes = [0u8; MAX_INSTRUCTION];
    // Read what is there: an instruction may end right before an unmapped page.
    let fetched = (1..=MAX_INSTRUCTION)
        .rev()
        .find(|&length| copy_from_guest(guest, rip, &mut bytes[..length]).is_ok())?;
    let instruction = InstDecoder::default()
        .decode(&mut U8Reader::new(&bytes[..fetched]))
        .ok()?;
    let opcode = instruction.opcode();
    if !matches!(opcode, Opcode::MOV | Opcode::XCHG | Opcode::CMPXCHG) {
        return None;
    }
    let size = u64::from(instruction.mem_size()?.bytes_size()?);
    if size != 4 && size != 8 {
        return None;
    }
    // The destination must be memory, the source a register or immediate.
    if matches!(instruction.operand(0), Operand::Register { .. }) {
        return None;
    }
    let source = match instruction.operand(1) {
        Operand::Register { reg } if reg.class() == register_class::Q || reg.class() == register_class::D => {
            Source::Register(usize::from(reg.num()))
        }
        Operand::ImmediateI32 { imm } => Source::Immediate(i64::from(imm)),
        Operand::ImmediateI64 { imm } => Source::Immediate(imm),
        _ => return None,
    };
    Some(Write {
        opcode,
        source,
        size,
        length: instruction.len().to_const(),
    })
}

/// Writes the low `size` bytes of `register` (4 bytes zero-extend, as on
/// hardware).
fn set_part(register: &mut u64, value: u64, size: u64) {
    *register = if size == 8 { value } else { value & 0xffff_ffff };
}
