//! The hypervisor's IDT: a gate for every exception vector.

use super::gdt::{DEBUG_IST, DOUBLE_FAULT_IST, HYPERVISOR_CS, MACHINE_CHECK_IST, NMI_IST};
use super::pic::PIC_VECTORS;
use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;
use xen_abi::hypercall::HYPERCALL_VECTOR;

/// One 16-byte 64-bit interrupt gate.
#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    low: u64,
    high: u64,
}

#[repr(C, align(16))]
struct Idt([Gate; 256]);

/// Built once by [`init`].
static IDT: Once<Idt> = Once::new();

unsafe extern "C" {
    /// Entry stubs for vectors 0–31, from `exception_entry.S`.
    static EXCEPTION_STUBS: [u64; 32];
    /// Entry stubs for the remapped PIC's vectors 32-47.
    static PIC_STUBS: [u64; 16];
    /// Entry stub of the `int 0x82` gate.
    static HYPERCALL_GATE_STUB: u64;
    /// Entry stubs of the APIC timer and spurious vectors.
    static APIC_STUBS: [u64; 2];
}

/// The IST stack of each vector that must run on a known-good stack: #DF
/// (the stack may be what failed), NMI and #MC (they can arrive anywhere,
/// even during each other), and #DB (a guest's debug trap deferred past
/// `mov ss` arrives on the first instruction of `syscall_entry`, while RSP
/// is still the guest's), each on its own.
fn interrupt_stack(vector: usize) -> u8 {
    match vector {
        1 => DEBUG_IST,
        2 => NMI_IST,
        8 => DOUBLE_FAULT_IST,
        18 => MACHINE_CHECK_IST,
        _ => 0,
    }
}

/// Vectors guests may raise themselves: `int3`, `into`. Every other software
/// `int n` from a guest meets a DPL-0 gate, raises #GP, and is checked
/// against the guest's own trap table (`set_trap_table`'s `trap_info`, `arch-x86/xen.h`).
const GUEST_VECTORS: [usize; 2] = [3, 4];

/// An interrupt gate (interrupts off on entry) to `handler`, at DPL `dpl`.
fn interrupt_gate(handler: u64, ist: u8, dpl: u8) -> Gate {
    let low = (handler & 0xffff)
        | u64::from(HYPERVISOR_CS) << 16
        | u64::from(ist) << 32
        | (0x8e | u64::from(dpl) << 5) << 40 // present, 64-bit interrupt gate
        | ((handler >> 16) & 0xffff) << 48;
    Gate {
        low,
        high: handler >> 32,
    }
}

impl Idt {
    /// Gates for the 32 exception vectors; the rest not present.
    fn new() -> Self {
        // SAFETY: the stub table is immutable data emitted by exception_entry.S.
        let stubs = unsafe { EXCEPTION_STUBS };
        let mut idt = [Gate { low: 0, high: 0 }; 256];
        for (vector, stub) in stubs.into_iter().enumerate() {
            let ist = interrupt_stack(vector);
            let dpl = if GUEST_VECTORS.contains(&vector) { 3 } else { 0 };
            idt[vector] = interrupt_gate(stub, ist, dpl);
        }
        // SAFETY: immutable data emitted by exception_entry.S.
        let gate = unsafe { HYPERCALL_GATE_STUB };
        // The `int 0x82` hypercall gate, also open to ring 3.
        idt[usize::from(HYPERCALL_VECTOR)] = interrupt_gate(gate, 0, 3);
        // SAFETY: immutable data emitted by exception_entry.S.
        let pic_stubs = unsafe { PIC_STUBS };
        for (vector, stub) in PIC_VECTORS.zip(pic_stubs) {
            idt[vector as usize] = interrupt_gate(stub, 0, 0);
        }
        // SAFETY: immutable data emitted by exception_entry.S.
        let apic_stubs = unsafe { APIC_STUBS };
        for (vector, stub) in [super::lapic::TIMER_VECTOR, super::lapic::SPURIOUS_VECTOR]
            .into_iter()
            .zip(apic_stubs)
        {
            idt[usize::from(vector)] = interrupt_gate(stub, 0, 0);
        }
        Idt(idt)
    }
}

/// Fills the exception gates and loads the IDT.
pub fn init() {
    let idt = IDT.call_once(Idt::new);
    let pointer = DescriptorTablePointer {
        limit: (core::mem::size_of::<Idt>() - 1) as u16,
        base: VirtAddr::new(idt as *const Idt as u64),
    };
    // SAFETY: the IDT is static and every present gate points at an entry stub
    // that saves state and calls `trap_dispatch`.
    unsafe { lidt(&pointer) };
}
