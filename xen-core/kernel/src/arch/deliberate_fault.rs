//! Faults taken on purpose (`crash=` on the command line), to prove that the
//! crash report and the exit code work.

/// A fault the command line can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliberateFault {
    /// `ud2`: invalid opcode, vector 6.
    InvalidOpcode,
    /// A read of an unmapped address: page fault, vector 14.
    PageFault,
    /// A read of a non-canonical address: general protection, vector 13.
    GeneralProtection,
    /// Division by zero, vector 0.
    DivideError,
    /// Unbounded recursion into the stack guard page: the page fault cannot be
    /// delivered on the same stack, so the CPU raises a double fault (vector 8),
    /// taken on its own IST stack.
    StackOverflow,
    /// A single-step #DB in ring 0 with the stack pointer on an unmapped
    /// page: where a guest's debug trap deferred past `mov ss` would land,
    /// on the first instruction of `syscall_entry`, still on the guest's
    /// stack. Taken on its own IST stack, it is noted and survived.
    DebugOnBadStack,
    /// A Rust panic.
    Panic,
    /// An exception with an empty IDT: nothing can be delivered, so the CPU
    /// shuts down (QEMU exits with status 0 under `-no-reboot`). Proves that
    /// runners tell a dead machine from a verdict.
    TripleFault,
}

use x86_64::VirtAddr;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;

/// The unmapped address the page-fault switch reads.
pub const UNMAPPED_ADDRESS: u64 = 0x0000_0000_dead_b000;

impl DeliberateFault {
    /// The fault named by a `crash=` value.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "ud" => Self::InvalidOpcode,
            "pf" => Self::PageFault,
            "gp" => Self::GeneralProtection,
            "de" => Self::DivideError,
            "stack" => Self::StackOverflow,
            "db" => Self::DebugOnBadStack,
            "panic" => Self::Panic,
            "triple" => Self::TripleFault,
            _ => return None,
        })
    }

    /// Whether the hypervisor goes on after this one.
    pub fn is_survived(self) -> bool {
        self == Self::DebugOnBadStack
    }

    /// Takes the fault. Returns only if the fault somehow did not happen,
    /// or if it is one the hypervisor survives.
    pub fn take(self) {
        match self {
            // SAFETY: `ud2` raises #UD; the handler never returns here.
            Self::InvalidOpcode => unsafe { core::arch::asm!("ud2") },
            // SAFETY: the address is unmapped in our tables, so the read faults
            // before any value is produced.
            Self::PageFault => unsafe {
                core::ptr::read_volatile(UNMAPPED_ADDRESS as *const u64);
            },
            // SAFETY: a non-canonical address raises #GP before any access.
            Self::GeneralProtection => unsafe {
                core::ptr::read_volatile(0x8000_0000_0000_0000 as *const u64);
            },
            // SAFETY: `div` by zero raises #DE; only the named registers change.
            Self::DivideError => unsafe {
                core::arch::asm!("xor ecx, ecx", "div ecx", out("eax") _, out("ecx") _, out("edx") _)
            },
            Self::StackOverflow => {
                core::hint::black_box(recurse(0));
            }
            Self::DebugOnBadStack => debug_on_bad_stack(),
            Self::Panic => panic!("deliberate panic from the command line"),
            Self::TripleFault => {
                let empty = DescriptorTablePointer {
                    limit: 0,
                    base: VirtAddr::zero(),
                };
                // SAFETY: deliberately fatal: with no IDT the `ud2` that follows
                // cannot be delivered and the machine resets; nothing runs after.
                unsafe {
                    lidt(&empty);
                    core::arch::asm!("ud2");
                }
            }
        }
    }
}

/// Recurses until the stack runs into its guard page.
#[allow(unconditional_recursion)]
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 32]);
    recurse(depth + 1).wrapping_add(frame[7])
}

/// Sets TF with interrupts off, so that the single-step trap comes right
/// after the instruction that points RSP at an unmapped page; then puts
/// RSP and RFLAGS back. Without an IST stack the CPU would push the #DB
/// frame there, fault, and double-fault.
fn debug_on_bad_stack() {
    let unmapped_stack = UNMAPPED_ADDRESS + 0x1000;
    // SAFETY: interrupts are off while RSP is bad, and the only event then is
    // the #DB, delivered on its IST stack; its handler clears TF and returns
    // to the next instruction, which restores RSP from a register the trap
    // entry preserves, then RFLAGS as they were.
    unsafe {
        core::arch::asm!(
            "pushfq",
            "mov {saved}, rsp",
            "cli",
            "pushfq",
            "or qword ptr [rsp], 0x100",
            "popfq",
            "mov rsp, {unmapped}",
            "mov rsp, {saved}",
            "popfq",
            saved = out(reg) _,
            unmapped = in(reg) unmapped_stack,
        )
    }
}
