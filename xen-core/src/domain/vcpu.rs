//! A virtual CPU of a PV domain: what the guest registered and which mode it
//! is in.

use super::data_selectors::{DataSelectors, SavedSegments};
use super::debug_registers::DebugRegisters;
use super::guest_gdt::GuestGdt;
use super::runstate::Runstate;
use crate::arch::{GuestMemory, PhysicalMemory};
use crate::event::Port;
use crate::mm::gdt_frames::GdtFrames;
use crate::mm::guest_ldt::GuestLdt;
use crate::mm::layout::is_canonical;
use crate::mm::{FrameTable, Mfn, TypedRef};
use crate::sched::{RunState, SchedEntity};
use crate::time::VcpuTimers;
use crate::trap_frame::TrapFrame;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;
use xen_abi::trap::{TRAP_FLAG_DPL_MASK, TRAP_FLAG_MASK_EVENTS, TrapInfo};

/// One entry of the virtual IDT set with `set_trap_table`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrapHandler {
    /// Handler address; 0 means no handler.
    pub address: u64,
    /// Code selector the guest gave (informational: guests run on `FLAT_KERNEL_CS`).
    pub cs: u16,
    /// Lowest privilege allowed to raise it with `int n` (0 = never).
    pub dpl: u8,
    /// Mask events on entry (interrupt-gate semantics).
    pub mask_events: bool,
}

/// One callback: where the hypervisor bounces to, and whether events are
/// masked on the way (`CALLBACKF_mask_events`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Callback {
    /// Entry point; 0 means none.
    pub address: u64,
    /// Mask events on entry.
    pub masks_events: bool,
}

/// Entry points registered with `set_callbacks` / `callback_op`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Callbacks {
    /// Event upcall entry (always entered with events masked).
    pub event: u64,
    /// Entry used when segment reloads fail on return to the guest.
    pub failsafe: Callback,
    /// Target of `syscall` from 64-bit guest user mode.
    pub syscall: Callback,
    /// Target of `syscall` from 32-bit guest user code.
    pub syscall32: Callback,
    /// Target of `sysenter` from guest user code (accepted and kept as Xen
    /// does; a 64-bit guest's `sysenter` raises #UD before it could be used).
    pub sysenter: Callback,
}

impl Callbacks {
    /// Every address in it.
    fn addresses(&self) -> [u64; 5] {
        [
            self.event,
            self.failsafe.address,
            self.syscall.address,
            self.syscall32.address,
            self.sysenter.address,
        ]
    }
}

/// Registers of a vCPU that only the hypervisor can load (the guest runs in
/// ring 3): they go into the CPU on the way back to the guest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadableState {
    /// FS base.
    pub fs_base: u64,
    /// GS base in guest kernel mode.
    pub gs_base_kernel: u64,
    /// GS base in guest user mode.
    pub gs_base_user: u64,
    /// Virtual CR0.TS (`fpu_taskswitch`).
    pub fpu_task_switched: bool,
}

/// The registers a return to the guest loads when they changed: the
/// [`LoadableState`] as the vCPU's mode selects it (the kernel's or the
/// user's GS base).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistersToLoad {
    /// FS base.
    pub fs_base: u64,
    /// GS base of the mode the vCPU is in.
    pub gs_base: u64,
    /// GS base of the other mode, kept in the CPU's shadow GS base, so that
    /// a change of mode is one `swapgs` ([`PendingLoad::SwapGs`]).
    pub gs_base_other: u64,
    /// Virtual CR0.TS.
    pub fpu_task_switched: bool,
    /// DR0–DR3, DR6 and DR7 while the guest's DR7 enables a breakpoint;
    /// `None`: the CPU's DR7 enables none.
    pub debug: Option<[u64; 6]>,
}

/// What the CPU needs before the return to the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PendingLoad {
    /// Every register (a value changed, or another vCPU comes on).
    All(RegistersToLoad),
    /// Only a change of mode: the GS bases trade places (`swapgs`).
    SwapGs,
}

/// `pending` bits: every register, or only the GS swap of a mode change.
const LOAD_ALL: u8 = 1;
const SWAP_GS: u8 = 2;

/// A mode switch to a mode that has no page-table base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoBase;

/// The state of one vCPU that hypercalls change.
#[derive(Debug)]
pub struct Vcpu {
    /// The virtual IDT, set entry by entry through [`Vcpu::set_trap`].
    traps: [TrapHandler; 256],
    /// Registered callbacks, every address canonical.
    callbacks: Callbacks,
    /// Guest kernel mode (both modes run at CPL 3; the hypervisor tracks
    /// which). Private: a change of mode is also a change of page-table base
    /// and GS base, which [`Vcpu::set_kernel_mode`] marks for loading.
    kernel_mode: bool,
    /// Kernel stack for user-to-kernel bounces (`stack_switch`): SS, with
    /// RPL 3, and RSP.
    kernel_stack: (u16, u64),
    /// Register state the hypervisor loads into the CPU for the guest: FS and
    /// GS bases and the virtual CR0.TS. Private, so every change goes through
    /// a setter that marks it for loading (see [`Vcpu::take_loadable_state`]).
    loadable: LoadableState,
    /// DS, ES, FS and GS while another vCPU runs (see
    /// [`super::data_segments`]).
    pub selectors: DataSelectors,
    /// What must reach the CPU before the return to the guest: `LOAD_ALL`
    /// once `loadable` or the debug registers changed, `SWAP_GS` for each
    /// change of mode since (two cancel out).
    pending: u8,
    /// Its debug registers. Private: a change must reach the CPU
    /// ([`Vcpu::set_debug_register`]).
    debug: DebugRegisters,
    /// The virtual CR2: where the last page fault delivered to it was.
    pub cr2: u64,
    /// Its runstate, and the guest's copy of it.
    pub runstate: Runstate,
    /// Its own GDT frames. Private: a change must reach the CPU
    /// ([`Vcpu::set_gdt`]).
    gdt: GuestGdt,
    /// Its LDT (`MMUEXT_SET_LDT` changes it, in a batch that shows each
    /// change to the CPU before old references go; faults fill it in).
    pub ldt: GuestLdt,
    /// Virtual I/O privilege level set with `physdev_op(set_iopl)`; which
    /// ports it reaches is `io_ports`' decision.
    iopl: u8,
    /// The kernel page-table base (Xen's `guest_table`): the validated L4 in
    /// CR3 while the vCPU runs, held by a typed reference so it cannot be
    /// unpinned into something writable underneath the CPU.
    pub kernel_base: Option<TypedRef>,
    /// The user page-table base (Xen's `guest_table_user`,
    /// `MMUEXT_NEW_USER_BASEPTR`): the L4 in CR3 while the vCPU runs in user
    /// mode, held like `kernel_base`. `None` until the guest gives one; a
    /// return to user mode without it crashes the domain, as on Xen.
    pub user_base: Option<TypedRef>,
    /// Whether it wants the CPU, or what it waits for. Private: becoming
    /// runnable again is news for the scheduler ([`SchedEntity::wake`]) and
    /// ends a poll's timeout, so every change goes through [`Vcpu::block`],
    /// [`Vcpu::poll`] and [`Vcpu::wake`].
    run_state: RunState,
    /// It yielded: others go first at the next scheduling decision.
    pub yielded: bool,
    /// The scheduler's accounting.
    pub sched: SchedEntity,
    /// Its one-shot, periodic and poll timers.
    pub timers: VcpuTimers,
    /// Its registers while another vCPU runs.
    pub context: TrapFrame,
    /// Its FPU and SSE registers while another vCPU runs (`fxsave` image).
    pub fpu: FpuArea,
}

/// The 512-byte `fxsave` image of a vCPU's x87, MMX and SSE registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct FpuArea(pub [u8; 512]);

impl Default for FpuArea {
    /// The state after `fninit` with SSE exceptions masked: x87 control word
    /// 0x37f, MXCSR 0x1f80, tag word all empty.
    fn default() -> Self {
        let mut image = [0u8; 512];
        image[0..2].copy_from_slice(&0x037f_u16.to_le_bytes());
        image[24..28].copy_from_slice(&0x1f80_u32.to_le_bytes());
        FpuArea(image)
    }
}

impl Default for Vcpu {
    fn default() -> Self {
        Vcpu {
            traps: [TrapHandler::default(); 256],
            callbacks: Callbacks::default(),
            kernel_mode: true,
            kernel_stack: (0, 0),
            loadable: LoadableState::default(),
            selectors: DataSelectors::default(),
            pending: 0,
            debug: DebugRegisters::default(),
            cr2: 0,
            runstate: Runstate::default(),
            gdt: GuestGdt::default(),
            ldt: GuestLdt::default(),
            iopl: 0,
            kernel_base: None,
            user_base: None,
            run_state: RunState::Runnable,
            yielded: false,
            sched: SchedEntity::default(),
            timers: VcpuTimers::default(),
            context: TrapFrame::default(),
            fpu: FpuArea::default(),
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

    /// The loadable registers as they are now.
    pub fn loadable(&self) -> LoadableState {
        self.loadable
    }

    /// Changes the loadable registers; the change reaches the CPU on the next
    /// return to the guest. Callers have checked the values (canonical bases).
    pub fn update_loadable(&mut self, change: impl FnOnce(&mut LoadableState)) {
        change(&mut self.loadable);
        self.pending |= LOAD_ALL;
    }

    /// Keeps what the CPU held in the segment registers as the vCPU left
    /// it: the guest may have replaced the FS base and its mode's GS base
    /// by loading selectors. Nothing is marked for loading: the switch back
    /// loads them all.
    pub fn keep_saved_segments(&mut self, saved: SavedSegments) {
        self.selectors = saved.selectors;
        self.loadable.fs_base = saved.fs_base;
        if self.kernel_mode {
            self.loadable.gs_base_kernel = saved.gs_base;
        } else {
            self.loadable.gs_base_user = saved.gs_base;
        }
    }

    /// Whether anything must reach the CPU before the return to the guest.
    #[inline]
    pub fn loadable_changed(&self) -> bool {
        self.pending != 0
    }

    /// What must reach the CPU, if anything, taken: the return path loads
    /// only then, so a hypercall pays one flag test.
    #[inline]
    pub fn take_loadable_state(&mut self) -> Option<PendingLoad> {
        let pending = core::mem::take(&mut self.pending);
        if pending & LOAD_ALL != 0 {
            Some(PendingLoad::All(self.registers_to_load()))
        } else if pending & SWAP_GS != 0 {
            Some(PendingLoad::SwapGs)
        } else {
            None
        }
    }

    /// The registers the CPU must hold for this vCPU in its current mode.
    pub fn registers_to_load(&self) -> RegistersToLoad {
        let state = self.loadable;
        RegistersToLoad {
            fs_base: state.fs_base,
            gs_base: if self.kernel_mode {
                state.gs_base_kernel
            } else {
                state.gs_base_user
            },
            gs_base_other: if self.kernel_mode {
                state.gs_base_user
            } else {
                state.gs_base_kernel
            },
            fpu_task_switched: state.fpu_task_switched,
            debug: self.debug.active().then(|| self.debug.values()),
        }
    }

    /// Makes `list` its GDT of `entries` entries (`set_gdt`, see
    /// [`GuestGdt::replace`]). The CPU shows the new one (`guest`, the
    /// running vCPU's) before the old frames' references go.
    pub fn set_gdt(
        &mut self,
        table: &mut FrameTable<'_>,
        memory: &mut impl PhysicalMemory,
        guest: &mut impl GuestMemory,
        owner: DomId,
        list: &[u64],
        entries: usize,
    ) -> Result<(), Errno> {
        let old = self.gdt.replace(table, memory, owner, list, entries)?;
        guest.load_gdt(&self.gdt.frames());
        for typed in old.into_iter().flatten() {
            table.put_page_and_type(memory, typed);
        }
        Ok(())
    }

    /// Its GDT frames, as the CPU's GDT is to show them.
    pub fn gdt_frames(&self) -> GdtFrames {
        self.gdt.frames()
    }

    /// Its GDT's entries.
    pub fn gdt_entries(&self) -> usize {
        self.gdt.entries()
    }

    /// Hands back the references its GDT holds (the domain's death).
    pub fn take_gdt_references(&mut self) -> impl Iterator<Item = TypedRef> {
        self.gdt.take_references()
    }

    /// Sets debug register `register` (`set_debugreg`, `mov %drN`) with
    /// Xen's checks; the CPU gets it on the way back to the guest.
    pub fn set_debug_register(&mut self, register: u64, value: u64) -> Result<(), Errno> {
        self.debug.set(register, value)?;
        self.pending |= LOAD_ALL;
        Ok(())
    }

    /// Debug register `register` (`get_debugreg`, `mov` from `%drN`).
    pub fn debug_register(&self, register: u64) -> Result<u64, Errno> {
        self.debug.get(register)
    }

    /// Adds a #DB's status (the CPU's DR6) to the guest's DR6.
    pub fn note_debug_status(&mut self, status: u64) {
        self.debug.note_debug_status(status);
    }

    /// The page-table base of the mode the vCPU is in.
    #[inline]
    pub fn active_base(&self) -> Option<Mfn> {
        let base = if self.kernel_mode {
            &self.kernel_base
        } else {
            &self.user_base
        };
        base.as_ref().map(TypedRef::mfn)
    }

    /// The handler registered for `vector`.
    #[inline]
    pub fn trap(&self, vector: u8) -> TrapHandler {
        self.traps[usize::from(vector)]
    }

    /// The registered callbacks.
    #[inline]
    pub fn callbacks(&self) -> Callbacks {
        self.callbacks
    }

    /// Replaces the callbacks; a non-canonical address is refused and
    /// changes nothing.
    pub fn set_callbacks(&mut self, callbacks: Callbacks) -> Result<(), Errno> {
        if !callbacks.addresses().into_iter().all(is_canonical) {
            return Err(Errno::EINVAL);
        }
        self.callbacks = callbacks;
        Ok(())
    }

    /// Whether the guest is in its kernel mode (both modes run at CPL 3).
    #[inline]
    pub fn kernel_mode(&self) -> bool {
        self.kernel_mode
    }

    /// Puts the vCPU in kernel (`kernel`) or user mode and makes that mode's
    /// page-table base the one the CPU walks, as Xen's `toggle_guest_mode`
    /// does on every crossing; the GS bases are to trade places (`swapgs`).
    /// Fails, changing nothing, when that mode has no base (user mode
    /// before `MMUEXT_NEW_USER_BASEPTR`).
    pub fn switch_mode(&mut self, kernel: bool, guest: &mut impl GuestMemory) -> Result<(), NoBase> {
        if self.kernel_mode == kernel {
            return Ok(());
        }
        let base = if kernel { &self.kernel_base } else { &self.user_base };
        let base = base.as_ref().map(TypedRef::mfn).ok_or(NoBase)?;
        self.kernel_mode = kernel;
        self.pending ^= SWAP_GS;
        guest.load_page_table_base(base);
        Ok(())
    }

    /// The kernel stack for bounces from user mode: SS and RSP.
    pub fn kernel_stack(&self) -> (u16, u64) {
        self.kernel_stack
    }

    /// Sets the kernel stack (`stack_switch`); the selector gets RPL 3,
    /// since guest kernels run in ring 3.
    pub fn set_kernel_stack(&mut self, ss: u16, rsp: u64) {
        self.kernel_stack = (ss | 3, rsp);
    }

    /// The I/O privilege level its guest kernel has.
    #[inline]
    pub fn iopl(&self) -> u8 {
        self.iopl
    }

    /// Sets the virtual I/O privilege level (0 to 3).
    pub fn set_iopl(&mut self, level: u8) {
        self.iopl = level.min(3);
    }

    /// Whether it wants the CPU, or what it waits for.
    #[inline]
    pub fn run_state(&self) -> RunState {
        self.run_state
    }

    /// Sleeps until an event upcall is due or a timer fires (`SCHEDOP_block`).
    pub fn block(&mut self) {
        self.run_state = RunState::Blocked;
    }

    /// Sleeps until `port` (or, with `None`, any port) is pending, an upcall
    /// is due, or system time reaches `timeout` (`SCHEDOP_poll`).
    pub fn poll(&mut self, port: Option<Port>, timeout: Option<u64>) {
        self.run_state = RunState::Polling { port };
        self.timers.poll_timeout = timeout;
    }

    /// Makes it runnable again, dropping any poll timeout; the scheduler
    /// hears of it only if it was asleep.
    pub fn wake(&mut self) {
        if !self.run_state.is_runnable() {
            self.sched.wake();
        }
        self.run_state = RunState::Runnable;
        self.timers.poll_timeout = None;
    }

    /// Clears the whole virtual IDT (`set_trap_table(NULL)`).
    pub fn clear_traps(&mut self) {
        self.traps = [TrapHandler::default(); 256];
    }
}
