//! A virtual CPU of a PV domain: what the guest registered and which mode it
//! is in.

use crate::mm::layout::is_canonical;
use xen_abi::errno::Errno;
use xen_abi::trap::{TRAP_FLAG_DPL_MASK, TRAP_FLAG_MASK_EVENTS, TrapInfo};

/// One entry of the virtual IDT set with `set_trap_table`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrapHandler {
    /// Handler address; 0 means no handler.
    pub address: u64,
    /// Code selector the guest gave (informational: guests run on 0xe033).
    pub cs: u16,
    /// Lowest privilege allowed to raise it with `int n` (0 = never).
    pub dpl: u8,
    /// Mask events on entry (interrupt-gate semantics).
    pub mask_events: bool,
}

/// Entry points registered with `set_callbacks` / `callback_op`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Callbacks {
    /// Event upcall entry.
    pub event: u64,
    /// Entry used when segment reloads fail on return to the guest.
    pub failsafe: u64,
    /// Target of `syscall` from guest user mode.
    pub syscall: u64,
}

/// The state of one vCPU that hypercalls change.
#[derive(Clone, Debug)]
pub struct Vcpu {
    /// The virtual IDT.
    pub traps: [TrapHandler; 256],
    /// Registered callbacks.
    pub callbacks: Callbacks,
    /// Guest kernel mode (both modes run at CPL 3; the hypervisor tracks which).
    pub kernel_mode: bool,
    /// Kernel stack for user-to-kernel bounces (`stack_switch`): SS and RSP.
    pub kernel_stack: (u16, u64),
    /// FS base, kernel GS base and user GS base (`set_segment_base`, `wrmsr`).
    pub fs_base: u64,
    /// GS base in guest kernel mode.
    pub gs_base_kernel: u64,
    /// GS base in guest user mode.
    pub gs_base_user: u64,
    /// Virtual CR0.TS (`fpu_taskswitch`).
    pub fpu_task_switched: bool,
    /// I/O privilege level granted with `physdev_op(set_iopl)` (dom0 drivers).
    pub iopl: u8,
}

impl Default for Vcpu {
    fn default() -> Self {
        Vcpu {
            traps: [TrapHandler::default(); 256],
            callbacks: Callbacks::default(),
            kernel_mode: true,
            kernel_stack: (0, 0),
            fs_base: 0,
            gs_base_kernel: 0,
            gs_base_user: 0,
            fpu_task_switched: false,
            iopl: 0,
        }
    }
}

impl Vcpu {
    /// Installs one `trap_info` entry; a non-canonical address is refused.
    pub fn set_trap(&mut self, entry: &TrapInfo) -> Result<(), Errno> {
        if !is_canonical(entry.address) {
            return Err(Errno::EINVAL);
        }
        self.traps[usize::from(entry.vector)] = TrapHandler {
            address: entry.address,
            cs: entry.cs,
            dpl: entry.flags & TRAP_FLAG_DPL_MASK,
            mask_events: entry.flags & TRAP_FLAG_MASK_EVENTS != 0,
        };
        Ok(())
    }

    /// Clears the whole virtual IDT (`set_trap_table(NULL)`).
    pub fn clear_traps(&mut self) {
        self.traps = [TrapHandler::default(); 256];
    }
}
