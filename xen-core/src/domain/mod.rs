//! Guest domains: what the domain builder reads from a PV kernel image.
//!
//! A PV kernel is an ELF executable that tells the hypervisor how to load it through
//! notes named "Xen". [`elf_image`] checks the file and finds its segments and notes;
//! [`guest_notes`] reads the notes as Xen's libelf does and checks that the result
//! describes a 64-bit PV guest that fits in its own part of the address space.

pub mod boot_layout;
pub mod bounce;
pub mod builder;
pub mod data_segments;
pub mod data_selectors;
pub mod debug_registers;
pub mod domain_death;
pub mod domain_table;
pub mod elf_image;
pub mod forced_emulation;
pub mod guest_gdt;
pub mod guest_notes;
pub mod io_ports;
pub mod kernel_image;
pub mod p2m_mapping;
pub mod privilege;
pub mod privileged_op;
pub mod pv_domain;
pub mod register_moves;
pub mod reservation;
pub mod resume_check;
pub mod runstate;
pub mod vcpu;
pub mod writable_page_tables;
