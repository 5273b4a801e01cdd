//! `syscall` as the hypercall instruction: MSR setup.

use super::gdt::HYPERVISOR_CS;
use x86_64::VirtAddr;
use x86_64::registers::model_specific::{Efer, EferFlags, LStar, Msr, SFMask, Star};
use xen_abi::trap::FLAT_RING3_CS32;

/// `MSR_CSTAR`: the target of `syscall` from compatibility mode.
const MSR_CSTAR: u32 = 0xc000_0083;
use x86_64::registers::rflags::RFlags;

unsafe extern "C" {
    /// The entry stub in `exception_entry.S`.
    static syscall_entry: u8;
    /// The stub for `syscall` from 32-bit code.
    static syscall32_entry: u8;
}

/// Points `syscall` at our entry: kernel CS/SS from `HYPERVISOR_CS`, `sysret`
/// base `FLAT_RING3_CS32` (so 64-bit `sysret` loads CS `FLAT_RING3_CS64` and
/// SS `FLAT_RING3_SS64`, Xen's flat guest selectors), interrupts and the risky flags cleared on entry. TF among
/// them: a guest single-stepping its `syscall` would otherwise take the #DB
/// on the stub's first instruction, RSP still its own; masked, the step
/// resumes after the return, whose RFLAGS (from R11) keep the guest's TF.
/// AC and DF too: the stub and Rust code assume both clear.
pub fn init() {
    // SAFETY: the selectors exist in our GDT with the layout STAR needs (see
    // gdt.rs), LSTAR points at an entry stub that switches to the hypervisor
    // stack before touching memory, and SFMASK clears IF so nothing interrupts
    // the stub before it does.
    unsafe {
        Star::write_raw(FLAT_RING3_CS32, HYPERVISOR_CS);
        LStar::write(VirtAddr::new(&raw const syscall_entry as u64));
        // Compatibility-mode syscall: left at 0, it would run address 0 in ring 0.
        Msr::new(MSR_CSTAR).write(&raw const syscall32_entry as u64);
        SFMask::write(
            RFlags::INTERRUPT_FLAG
                | RFlags::TRAP_FLAG
                | RFlags::DIRECTION_FLAG
                | RFlags::ALIGNMENT_CHECK
                | RFlags::NESTED_TASK,
        );
        Efer::update(|flags| flags.insert(EferFlags::SYSTEM_CALL_EXTENSIONS));
    }
}
