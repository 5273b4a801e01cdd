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
            "panic" => Self::Panic,
            "triple" => Self::TripleFault,
            _ => return None,
        })
    }

    /// Takes the fault. Returns only if the fault somehow did not happen.
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
