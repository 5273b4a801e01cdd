//! The x86_64 side of the arch seam: everything that touches the CPU or devices.
//!
//! All of the image's unsafe code lives below this module, each block with a
//! `// SAFETY:` line; the rest of the image is safe Rust over these wrappers.
#![allow(unsafe_code)]

// `console` first: its logging macros must be defined before the modules using them.
#[macro_use]
pub mod console;
pub mod boot_info;
pub mod boot_scratch;
pub mod boot_sequence;
pub mod clock;
pub mod control_registers;
pub mod cpu_id;
pub mod crash_report;
pub mod debug_trap;
pub mod deliberate_fault;
pub mod descriptor_window;
pub mod enter_guest;
pub mod entry;
pub mod fpu;
pub mod frame_table_storage;
pub mod free_frames;
pub mod gdt;
pub mod guest_memory;
pub mod idt;
pub mod kernel_machine;
pub mod lapic;
pub mod m2p;
pub mod machine_map;
pub mod paging;
pub mod physical_memory;
pub mod pic;
pub mod port_io;
pub mod qemu_exit;
pub mod rtc;
pub mod segment_base;
pub mod segment_selectors;
pub mod serial;
pub mod stacks;
pub mod syscall;
pub mod trap_dispatch;

// The assembly takes every number it shares with Rust or with guests as a
// `{NAME}` operand.
core::arch::global_asm!(
    include_str!("boot.S"),
    XEN_ELFNOTE_PHYS32_ENTRY = const xen_abi::elfnote::XEN_ELFNOTE_PHYS32_ENTRY,
    options(att_syntax)
);
core::arch::global_asm!(
    include_str!("exception_entry.S"),
    FLAT_KERNEL_CS = const xen_abi::trap::FLAT_KERNEL_CS,
    FLAT_KERNEL_SS = const xen_abi::trap::FLAT_KERNEL_SS,
    FLAT_RING3_CS32 = const xen_abi::trap::FLAT_RING3_CS32,
    HYPERCALL_VECTOR = const xen_abi::hypercall::HYPERCALL_VECTOR,
    SYSCALL_VECTOR = const xen_core::trap_frame::SYSCALL_VECTOR,
    SYSCALL32_VECTOR = const xen_core::trap_frame::SYSCALL32_VECTOR,
    TRAP_FRAME_SIZE = const xen_core::trap_frame::TRAP_FRAME_SIZE,
    TIMER_VECTOR = const lapic::TIMER_VECTOR,
    SPURIOUS_VECTOR = const lapic::SPURIOUS_VECTOR,
    options(att_syntax)
);
