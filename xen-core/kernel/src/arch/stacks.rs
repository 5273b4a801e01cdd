//! The hypervisor's stacks: the boot stack, which every entry from ring 3
//! uses, and one IST stack per vector that must not run on whatever stack
//! was live. Each sits above a guard page the hypervisor's page tables leave
//! unmapped (boot.S reserves them).

use core::ptr::addr_of;

unsafe extern "C" {
    static __boot_stack_guard: u8;
    static __boot_stack_top: u8;
    static __ist_stack_guard: u8;
    static __ist_stack_top: u8;
    static __nmi_stack_guard: u8;
    static __nmi_stack_top: u8;
    static __mce_stack_guard: u8;
    static __mce_stack_top: u8;
    static __db_stack_guard: u8;
    static __db_stack_top: u8;
}

/// Bytes in a guard page.
const GUARD_SIZE: u64 = 4096;

/// One of the hypervisor's stacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    /// The boot stack: boot, then every trap from ring 3 (TSS RSP0).
    Boot,
    /// #DF: the stack may be what failed.
    DoubleFault,
    /// NMI: it can arrive anywhere, even during #MC or #DF.
    Nmi,
    /// #MC: likewise.
    MachineCheck,
    /// #DB: a guest can have one delivered on the first instruction of
    /// `syscall_entry`, while RSP is still the guest's.
    Debug,
}

impl Stack {
    /// Every stack, each with its guard page.
    pub const ALL: [Stack; 5] = [
        Stack::Boot,
        Stack::DoubleFault,
        Stack::Nmi,
        Stack::MachineCheck,
        Stack::Debug,
    ];

    /// The addresses of its guard page (the lowest page, unmapped) and of
    /// its top (above its last byte, where it starts).
    fn bounds(self) -> (u64, u64) {
        match self {
            Stack::Boot => (addr_of!(__boot_stack_guard) as u64, addr_of!(__boot_stack_top) as u64),
            Stack::DoubleFault => (addr_of!(__ist_stack_guard) as u64, addr_of!(__ist_stack_top) as u64),
            Stack::Nmi => (addr_of!(__nmi_stack_guard) as u64, addr_of!(__nmi_stack_top) as u64),
            Stack::MachineCheck => (addr_of!(__mce_stack_guard) as u64, addr_of!(__mce_stack_top) as u64),
            Stack::Debug => (addr_of!(__db_stack_guard) as u64, addr_of!(__db_stack_top) as u64),
        }
    }

    /// The address of its guard page.
    pub fn guard(self) -> u64 {
        self.bounds().0
    }

    /// The address above its last byte, where it starts.
    pub fn top(self) -> u64 {
        self.bounds().1
    }

    /// How a report names it.
    pub fn name(self) -> &'static str {
        match self {
            Stack::Boot => "boot",
            Stack::DoubleFault => "#DF IST",
            Stack::Nmi => "NMI IST",
            Stack::MachineCheck => "#MC IST",
            Stack::Debug => "#DB IST",
        }
    }

    /// The stack `address` lies on, if it is one of ours.
    pub fn containing(address: u64) -> Option<Stack> {
        Stack::ALL
            .into_iter()
            .find(|stack| (stack.guard() + GUARD_SIZE..stack.top()).contains(&address))
    }
}
