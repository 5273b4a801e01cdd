//! A user program's system call round trip (`syscall` in user mode, the
//! guest kernel's handler, the `iret` back), and a direct write to an L1
//! entry, trapped and emulated (writable page tables).

use crate::measure::{CALLS, per_iteration};
use core::sync::atomic::AtomicU64;
use guest_sdk::page_table::{ACCESSED, PAGE_SIZE, PRESENT, PageTableError, PageTableManager, XenMmu};
use guest_sdk::println;
use guest_sdk::start_info::StartInfo;
use guest_sdk::traps::TrapFrame;
use guest_sdk::user::{self, UserSpace};

/// Where the program's code and stack are.
const CODE: u64 = 0x40_0000;
const STACK: u64 = 0x7f_f000;
/// The program's system calls: nothing, and exit(code).
const SYS_NOTHING: u64 = 0;
const SYS_EXIT: u64 = 60;

// The program: CALLS system calls between two readings of the TSC; exits
// with the ticks they took.
core::arch::global_asm!(
    ".section .text.bench_user_program, \"ax\"",
    ".balign 4096",
    ".global bench_user_program",
    "bench_user_program:",
    "    rdtsc",
    "    shl $32, %rdx",
    "    or %rdx, %rax",
    "    mov %rax, %r12",
    "    mov ${calls}, %r13d",
    "1:  mov ${nothing}, %eax",
    "    syscall",
    "    dec %r13d",
    "    jnz 1b",
    "    rdtsc",
    "    shl $32, %rdx",
    "    or %rdx, %rax",
    "    sub %r12, %rax",
    "    mov %rax, %rdi",
    "    mov ${exit}, %eax",
    "    syscall",
    "    ud2",
    ".balign 4096",
    ".text",
    calls = const CALLS,
    nothing = const SYS_NOTHING,
    exit = const SYS_EXIT,
    options(att_syntax)
);

unsafe extern "C" {
    static bench_user_program: u8;
}

/// The stack traps from user mode run on.
static TRAP_STACK: [AtomicU64; 1024] = [const { AtomicU64::new(0) }; 1024];

fn syscall(frame: &mut TrapFrame) {
    match frame.rax {
        SYS_EXIT => user::exit_to_kernel(frame.rdi),
        _ => frame.rax = 0,
    }
}

/// Both benchmarks; `bench_va_l1` is the L1 mapping the mmu benchmarks'
/// pages, whose first entry maps `frames[0]` read-only.
pub fn benchmarks(
    info: &'static StartInfo,
    tables: &mut PageTableManager<XenMmu>,
    bench_va_l1: u64,
    frames: [u64; 2],
) -> Result<(), PageTableError> {
    let stack_top = TRAP_STACK.as_ptr() as u64 + core::mem::size_of_val(&TRAP_STACK) as u64;
    user::prepare(syscall, stack_top)?;
    let space = UserSpace::new(tables, tables.boot_root(info).mfn)?;
    let code = &raw const bench_user_program as u64;
    let code_mfn = tables.mfn_of(code).ok_or(PageTableError::BadAddress(code))?;
    space.map(tables, CODE, code_mfn, false)?;
    let stack = tables.allocate_frame()?;
    space.map(tables, STACK, stack.mfn, true)?;
    space.activate(tables)?;
    let ticks = user::run(CODE, STACK + PAGE_SIZE);
    println!("bench user_syscall_round_trip: {} per call", ticks / CALLS);

    let enable = [0, u64::from(xen_abi::mmu::VMASST_TYPE_WRITABLE_PAGETABLES), 0, 0, 0];
    guest_sdk::XenError::check(guest_sdk::hypercall::raw(xen_abi::hypercall::VM_ASSIST, enable))?;
    let mut failed = None;
    let per_write = per_iteration(CALLS, |iteration| {
        let entry = (frames[(iteration % 2) as usize] << 12) | PRESENT | ACCESSED;
        if let Err(error) = tables.write_entry_directly(bench_va_l1, 0, entry) {
            failed = Some(error);
        }
    });
    match failed {
        None => println!("bench direct_pte_write: {per_write} per write"),
        Some(error) => println!("bench direct_pte_write: {error}"),
    }
    Ok(())
}
