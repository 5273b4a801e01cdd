//! User programs: a guest kernel runs code in guest user mode, on page
//! tables of its own, and takes its system calls and faults.
//!
//! On Xen x86_64 PV both guest modes run in ring 3; the hypervisor tells
//! them apart and gives user mode its own L4 (`MMUEXT_NEW_USER_BASEPTR`),
//! which maps no kernel memory. The kernel enters its program with the
//! `iret` hypercall; a `syscall` there reaches the kernel's syscall
//! callback, and exceptions reach its trap table, both on the kernel stack
//! given with `stack_switch`. The SDK hands both to Rust as a
//! [`TrapFrame`]: a system call is vector [`SYSCALL_VECTOR`], with the
//! program's registers as its `syscall` left them (number in RAX,
//! arguments in RDI, RSI, RDX, R10, R8, R9). A handler returns to the
//! program by returning (RAX holds the result), or ends it with
//! [`exit_to_kernel`].
//!
//! The address space: [`UserSpace`] builds an L4 whose slot 0 (the lowest
//! 512 GiB, [`USER_TOP`]) holds the program's pages, and gives the same L3
//! to the kernel's L4, so the kernel reads the program's memory at the same
//! addresses (as Linux's kernel and user page tables share their lower
//! half).

use crate::XenError;
use crate::page_table::{ACCESSED, MmuBackend, PAGE_SIZE, PRESENT, PageTableError, PageTableManager, USER};
use crate::trap_frame::TrapFrame;
use spin::Mutex;
use xen_abi::trap::{CALLBACKTYPE_SYSCALL, CallbackRegister, FLAT_KERNEL_SS, FLAT_RING3_CS64, FLAT_RING3_SS64};

/// The `vector` of a system call's [`TrapFrame`] (no exception has it).
pub const SYSCALL_VECTOR: u64 = 0x100;
/// The end of the program's addresses: L4 slot 0.
pub const USER_TOP: u64 = 1 << 39;

/// Handles a user program's system call.
pub type SyscallHandler = fn(&mut TrapFrame);

/// The handler for system calls, set by [`prepare`].
static SYSCALL_HANDLER: Mutex<Option<SyscallHandler>> = Mutex::new(None);

/// Readies the kernel for user programs: `handler` takes their system
/// calls, and traps from user mode run on the stack ending at
/// `kernel_stack_top` (`stack_switch`), which nothing else may use.
pub fn prepare(handler: SyscallHandler, kernel_stack_top: u64) -> Result<(), XenError> {
    *SYSCALL_HANDLER.lock() = Some(handler);
    let register = CallbackRegister {
        kind: CALLBACKTYPE_SYSCALL,
        // Events stay as they are: the handler may take upcalls.
        flags: 0,
        _pad0: 0,
        address: syscall_entry(),
    };
    crate::hypercall::callback_register(&register)?;
    crate::hypercall::stack_switch(FLAT_KERNEL_SS, kernel_stack_top)
}

/// Whether the trap in `frame` came from user mode: the hypervisor keeps
/// RPL 3 in the saved CS for it and clears it for the guest kernel.
pub fn from_user(frame: &TrapFrame) -> bool {
    frame.cs & 3 == 3
}

/// Runs the user program at `entry` with its stack at `stack` on the user
/// base set before, on Xen's flat user selectors; returns the code it
/// exited with (see [`exit_to_kernel`]). One program at a time.
pub fn run(entry: u64, stack: u64) -> u64 {
    run_on(entry, stack, FLAT_RING3_CS64, FLAT_RING3_SS64)
}

/// [`run`] on code and stack selectors `cs` and `ss` of the kernel's own
/// GDT (RPL 3), as Linux runs its processes on its `__USER_CS` and
/// `__USER_DS`.
pub fn run_on(entry: u64, stack: u64, cs: u16, ss: u16) -> u64 {
    #[cfg(target_os = "none")]
    {
        crate::arch::user::run(entry, stack, cs, ss)
    }
    #[cfg(not(target_os = "none"))]
    {
        let _ = (entry, stack, cs, ss);
        unreachable!("user programs run on bare metal only")
    }
}

/// Ends the running user program from its system-call handler: [`run`]
/// returns `code`. Everything on the trap stack is dropped.
pub fn exit_to_kernel(code: u64) -> ! {
    #[cfg(target_os = "none")]
    {
        crate::arch::user::exit_to_kernel(code)
    }
    #[cfg(not(target_os = "none"))]
    {
        let _ = code;
        unreachable!("user programs run on bare metal only")
    }
}

/// Copies the program's bytes at `address` into `out`, if the whole range
/// is below [`USER_TOP`]; a page it does not map faults in the kernel.
pub fn copy_from_user(address: u64, out: &mut [u8]) -> Result<(), PageTableError> {
    address
        .checked_add(out.len() as u64)
        .filter(|&end| end <= USER_TOP)
        .ok_or(PageTableError::BadAddress(address))?;
    #[cfg(target_os = "none")]
    crate::arch::user::copy_from_user(address, out);
    Ok(())
}

/// Called by the trap dispatcher for a system call.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
pub(crate) fn dispatch(frame: &mut TrapFrame) {
    let handler = SYSCALL_HANDLER.try_lock().and_then(|handler| *handler);
    match handler {
        Some(handler) => handler(frame),
        None => {
            crate::println!("guest: system call {} with no handler", frame.rax);
            crate::sched::crash()
        }
    }
}

/// Where the syscall callback enters the kernel.
fn syscall_entry() -> u64 {
    #[cfg(target_os = "none")]
    {
        crate::arch::stubs::syscall_entry()
    }
    #[cfg(not(target_os = "none"))]
    {
        SYSCALL_VECTOR
    }
}

/// A user address space: its L4, pinned, with slot 0 shared with the
/// kernel's L4.
pub struct UserSpace {
    /// The user L4's machine frame.
    pub root: u64,
    /// The kernel L4 that shares slot 0.
    kernel_root: u64,
}

impl UserSpace {
    /// An empty user L4, pinned, and the kernel L4 `kernel_root`, whose
    /// slot 0 must be empty.
    pub fn new<B: MmuBackend>(tables: &mut PageTableManager<B>, kernel_root: u64) -> Result<Self, PageTableError> {
        if tables.entry(kernel_root, 0)? & PRESENT != 0 {
            return Err(PageTableError::BadAddress(0));
        }
        let root = tables.new_table()?;
        tables.pin(root.mfn, crate::page_table::Level::L4)?;
        Ok(UserSpace {
            root: root.mfn,
            kernel_root,
        })
    }

    /// Maps the program's page `va` to machine frame `mfn`, writable or not,
    /// and makes sure the kernel sees the same slot 0.
    pub fn map<B: MmuBackend>(
        &self,
        tables: &mut PageTableManager<B>,
        va: u64,
        mfn: u64,
        writable: bool,
    ) -> Result<(), PageTableError> {
        if va >= USER_TOP || !va.is_multiple_of(PAGE_SIZE) {
            return Err(PageTableError::BadAddress(va));
        }
        let flags = PRESENT | USER | ACCESSED | if writable { crate::page_table::RW } else { 0 };
        tables.map(self.root, va, mfn, flags)?;
        tables.flush()?;
        // Compared without the accessed bit, which the CPU may set.
        let slot = tables.entry(self.root, 0)?;
        if (tables.entry(self.kernel_root, 0)? ^ slot) & !ACCESSED != 0 {
            tables.queue(self.kernel_root << 12, slot)?;
            tables.flush()?;
        }
        Ok(())
    }

    /// Makes this the user base: the next [`run`] enters it.
    pub fn activate<B: MmuBackend>(&self, tables: &mut PageTableManager<B>) -> Result<(), PageTableError> {
        tables.set_user_base(self.root)
    }
}

#[cfg(test)]
mod tests;
