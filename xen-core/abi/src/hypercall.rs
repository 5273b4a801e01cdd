//! Hypercall numbers of `xen.h` (the `__HYPERVISOR_*` values).
//!
//! A guest calls hypercall `n` through slot `n` of its hypercall page
//! (32 bytes per slot), with arguments in RDI, RSI, RDX, R10 and R8.

/// Size of one stub in the hypercall page.
pub const HYPERCALL_STUB_SIZE: usize = 32;
/// Size of the hypercall page: one stub for each of 128 hypercall numbers.
pub const HYPERCALL_PAGE_SIZE: usize = 4096;
/// The vector of the `int $0x82` hypercall gate (Xen's `HYPERCALL_VECTOR`,
/// not in the public headers): 32-bit PV guests make hypercalls through it,
/// and a 64-bit guest may too, with the same registers as the hypercall page.
pub const HYPERCALL_VECTOR: u8 = 0x82;

/// Install the virtual IDT.
pub const SET_TRAP_TABLE: u32 = 0;
/// Validated page-table updates.
pub const MMU_UPDATE: u32 = 1;
/// Install guest GDT frames.
pub const SET_GDT: u32 = 2;
/// Set the kernel stack used on user-to-kernel bounces.
pub const STACK_SWITCH: u32 = 3;
/// Register event, failsafe and syscall callbacks.
pub const SET_CALLBACKS: u32 = 4;
/// Set or clear the virtual CR0.TS.
pub const FPU_TASKSWITCH: u32 = 5;
/// Old scheduler interface (interfaces before 0x00030101).
pub const SCHED_OP_COMPAT: u32 = 6;
/// Host platform control.
pub const PLATFORM_OP: u32 = 7;
/// Write a debug register.
pub const SET_DEBUGREG: u32 = 8;
/// Read a debug register.
pub const GET_DEBUGREG: u32 = 9;
/// Write a GDT or LDT entry.
pub const UPDATE_DESCRIPTOR: u32 = 10;
/// Memory reservations and maps.
pub const MEMORY_OP: u32 = 12;
/// A batch of hypercalls.
pub const MULTICALL: u32 = 13;
/// Edit the L1 entry mapping a virtual address.
pub const UPDATE_VA_MAPPING: u32 = 14;
/// One-shot timer.
pub const SET_TIMER_OP: u32 = 15;
/// Old event-channel interface (interfaces before 0x00030202).
pub const EVENT_CHANNEL_OP_COMPAT: u32 = 16;
/// Version and feature queries.
pub const XEN_VERSION: u32 = 17;
/// Emergency console.
pub const CONSOLE_IO: u32 = 18;
/// Old physdev interface (interfaces before 0x00030202).
pub const PHYSDEV_OP_COMPAT: u32 = 19;
/// Grant-table operations.
pub const GRANT_TABLE_OP: u32 = 20;
/// Turn on assists such as writable page tables.
pub const VM_ASSIST: u32 = 21;
/// `update_va_mapping` in another domain's address space.
pub const UPDATE_VA_MAPPING_OTHERDOMAIN: u32 = 22;
/// Return from an exception or upcall frame.
pub const IRET: u32 = 23;
/// Per-vCPU operations.
pub const VCPU_OP: u32 = 24;
/// Set FS, GS or shadow GS base.
pub const SET_SEGMENT_BASE: u32 = 25;
/// Extended MMU operations (pin, new base pointer, TLB flushes).
pub const MMUEXT_OP: u32 = 26;
/// Security module operations.
pub const XSM_OP: u32 = 27;
/// NMI callbacks.
pub const NMI_OP: u32 = 28;
/// Yield, block, shutdown, poll.
pub const SCHED_OP: u32 = 29;
/// Extensible callback registration.
pub const CALLBACK_OP: u32 = 30;
/// Profiling.
pub const XENOPROF_OP: u32 = 31;
/// Event channels.
pub const EVENT_CHANNEL_OP: u32 = 32;
/// IRQ and I/O for driver domains.
pub const PHYSDEV_OP: u32 = 33;
/// HVM and PVH operations.
pub const HVM_OP: u32 = 34;
/// Toolstack system control.
pub const SYSCTL: u32 = 35;
/// Toolstack domain control.
pub const DOMCTL: u32 = 36;
/// Kexec.
pub const KEXEC_OP: u32 = 37;
/// Transcendent memory (removed).
pub const TMEM_OP: u32 = 38;
/// Argo inter-domain messaging.
pub const ARGO_OP: u32 = 39;
/// PMU virtualisation.
pub const XENPMU_OP: u32 = 40;
/// Device-model operations.
pub const DM_OP: u32 = 41;
/// Hypervisor file system.
pub const HYPFS_OP: u32 = 42;
/// First architecture-specific hypercall.
pub const ARCH_0: u32 = 48;

/// `console_io` command: write bytes to the hypervisor console.
pub const CONSOLEIO_WRITE: u32 = 0;
/// `console_io` command: read bytes from the hypervisor console.
pub const CONSOLEIO_READ: u32 = 1;
