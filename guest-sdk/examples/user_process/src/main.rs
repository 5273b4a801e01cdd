//! A guest kernel that runs a user program in guest user mode, on page
//! tables of its own: the program writes a line through a system call,
//! stores to a page that is not mapped yet (the kernel maps it when the
//! fault arrives and the store is retried), reports the value back through
//! another call, reports the hypervisor's CPUID signature (asked with the
//! forced-emulation prefix from user mode), runs into an instruction
//! breakpoint the kernel set, and exits with a code the kernel prints. Every line is the same on real Xen.
#![no_std]
#![no_main]

use core::sync::atomic::AtomicU64;
use guest_sdk::page_table::{PAGE_SIZE, PageTableManager, XenMmu, boot_manager};
use guest_sdk::println;
use guest_sdk::shared_info::SHARED_INFO;
use guest_sdk::start_info::{StartInfo, command_line};
use guest_sdk::traps::TrapFrame;
use guest_sdk::user::{self, UserSpace};
use spin::Mutex;

/// Where the program's code is mapped, read-only.
const CODE: u64 = 0x40_0000;
/// The program's stack page.
const STACK: u64 = 0x7f_f000;
/// The page the program stores to first, mapped on its fault.
const HEAP: u64 = 0x60_0000;

/// The program's system calls: write(buffer, length), report(value),
/// exit(code).
const SYS_WRITE: u64 = 1;
const SYS_REPORT: u64 = 2;
const SYS_EXIT: u64 = 60;

// The user program: one page of its own, mapped at CODE.
core::arch::global_asm!(
    ".section .text.user_program, \"ax\"",
    ".balign 4096",
    ".global user_program",
    "user_program:",
    "    lea 9f(%rip), %rdi",
    "    mov $(10f - 9f), %esi",
    "    mov ${write}, %eax",
    "    syscall",
    "    mov ${heap}, %ebx",
    "    movq $42, (%rbx)",
    "    mov (%rbx), %rdi",
    "    mov ${report}, %eax",
    "    syscall",
    // The hypervisor's CPUID signature, asked from user mode.
    "    mov $0x40000000, %eax",
    "    xor %ecx, %ecx",
    "    .byte 0x0f, 0x0b, 0x78, 0x65, 0x6e",
    "    cpuid",
    "    mov %ebx, %edi",
    "    mov ${report}, %eax",
    "    syscall",
    // The kernel set an instruction breakpoint here.
    ".global user_breakpoint",
    "user_breakpoint:",
    "    mov $7, %edi",
    "    mov ${exit}, %eax",
    "    syscall",
    "    ud2",
    "9:  .ascii \"hello from user mode\"",
    "10:",
    ".balign 4096",
    ".text",
    write = const SYS_WRITE,
    report = const SYS_REPORT,
    exit = const SYS_EXIT,
    heap = const HEAP,
    options(att_syntax)
);

unsafe extern "C" {
    /// The program's first instruction, in the page above.
    static user_program: u8;
    /// The instruction the kernel sets a breakpoint on.
    static user_breakpoint: u8;
}

/// The stack traps from user mode run on (16 KiB; atomics so that it is
/// writable memory without `static mut`).
static TRAP_STACK: [AtomicU64; 2048] = [const { AtomicU64::new(0) }; 2048];

/// What the page-fault handler needs: the manager and the program's space.
static KERNEL: Mutex<Option<(PageTableManager<XenMmu>, UserSpace)>> = Mutex::new(None);

/// Faults of the program: a page of HEAP is mapped on demand; anything else
/// ends it. A fault in the kernel is a bug.
fn page_fault(frame: &mut TrapFrame) {
    let address = SHARED_INFO.fault_address();
    if !user::from_user(frame) {
        println!("kernel page fault at {address:#x}, rip {:#x}", frame.rip);
        guest_sdk::sched::crash();
    }
    let mut kernel = KERNEL.lock();
    let Some((tables, space)) = kernel.as_mut() else {
        guest_sdk::sched::crash()
    };
    let page = address & !(PAGE_SIZE - 1);
    let mapped = page == HEAP
        && tables
            .allocate_frame()
            .and_then(|frame| space.map(tables, page, frame.mfn, true))
            .is_ok();
    drop(kernel);
    if !mapped {
        println!("user page fault at {address:#x}: not ours to map, the program ends");
        user::exit_to_kernel(u64::MAX);
    }
    println!(
        "user page fault at {address:#x} (error code {:#x}): mapped a page",
        frame.error_code
    );
}

/// The breakpoint on `user_breakpoint`: reported with the guest's DR6,
/// then taken away (DR7 and DR6 back to their reset values), so the
/// instruction runs when the handler returns.
fn debug(frame: &mut TrapFrame) {
    use guest_sdk::hypercall::{get_debugreg, set_debugreg};
    println!(
        "user breakpoint hit at {:#x} from user mode {}, dr6 {:#x}",
        frame.rip,
        user::from_user(frame),
        get_debugreg(6)
    );
    if set_debugreg(7, 0x400).and(set_debugreg(6, 0xffff_0ff0)).is_err() {
        guest_sdk::sched::crash();
    }
}

/// The program's system calls.
fn syscall(frame: &mut TrapFrame) {
    match frame.rax {
        SYS_WRITE => {
            let mut text = [0u8; 64];
            let length = (frame.rsi as usize).min(text.len());
            let result = user::copy_from_user(frame.rdi, &mut text[..length]);
            let text = core::str::from_utf8(&text[..length]).unwrap_or("(not UTF-8)");
            match result {
                Ok(()) => println!("user program says: {text}"),
                Err(error) => println!("user program passed a bad buffer: {error}"),
            }
            frame.rax = length as u64;
        }
        SYS_REPORT => {
            println!("user program reports {:#x}", frame.rdi);
            frame.rax = 0;
        }
        SYS_EXIT => user::exit_to_kernel(frame.rdi),
        other => {
            println!("user program made unknown system call {other}");
            frame.rax = u64::MAX;
        }
    }
}

fn main(info: &'static StartInfo) -> ! {
    match run_program(info) {
        Ok(code) => println!("user program exited with {code}"),
        Err(error) => println!("user program failed: {error}"),
    }
    if command_line(info).contains("debug-exit") {
        let _ = guest_sdk::debug_exit::exit_qemu(guest_sdk::debug_exit::SUCCESS);
    }
    guest_sdk::sched::power_off()
}

fn run_program(info: &'static StartInfo) -> Result<u64, guest_sdk::page_table::PageTableError> {
    guest_sdk::shared_info::map(info)?;
    guest_sdk::traps::install(&[(1, debug), (14, page_fault)])?;
    let stack_top = TRAP_STACK.as_ptr() as u64 + core::mem::size_of_val(&TRAP_STACK) as u64;
    user::prepare(syscall, stack_top)?;
    let mut tables = boot_manager(info);
    let kernel_root = tables.boot_root(info).mfn;
    let space = UserSpace::new(&mut tables, kernel_root)?;
    let code = &raw const user_program as u64;
    let code_mfn = tables
        .mfn_of(code)
        .ok_or(guest_sdk::page_table::PageTableError::BadAddress(code))?;
    space.map(&mut tables, CODE, code_mfn, false)?;
    let stack = tables.allocate_frame()?;
    space.map(&mut tables, STACK, stack.mfn, true)?;
    space.activate(&mut tables)?;
    // An instruction breakpoint (DR7 L0, execution, one byte) in the program.
    let breakpoint = CODE + (&raw const user_breakpoint as u64 - code);
    guest_sdk::hypercall::set_debugreg(0, breakpoint)?;
    guest_sdk::hypercall::set_debugreg(7, 0x401)?;
    println!("user space ready: code at {CODE:#x}, stack at {STACK:#x}, the heap page unmapped");
    *KERNEL.lock() = Some((tables, space));
    let code = user::run(CODE, STACK + PAGE_SIZE);
    println!("user program exited with {code}");
    again_on_own_selectors()
}

/// Runs the program again on user code and stack segments of a GDT of the
/// kernel's own, at Linux's selectors (`__USER_CS` 0x33, `__USER_DS`
/// 0x2b): the hypervisor checks them before returning there.
fn again_on_own_selectors() -> Result<u64, guest_sdk::page_table::PageTableError> {
    use guest_sdk::descriptor_table::{CODE_64, DescriptorTable, FLAT_DATA, TableKind};
    let mut kernel = KERNEL.lock();
    let Some((tables, _)) = kernel.as_mut() else {
        guest_sdk::sched::crash()
    };
    let gdt = DescriptorTable::load(tables, TableKind::Gdt, &[0, 0, 0, 0, 0, FLAT_DATA, CODE_64])?;
    drop(kernel);
    let (code, data) = (gdt.selector(6), gdt.selector(5));
    println!("again, on the kernel's own GDT selectors {code:#x} and {data:#x}");
    Ok(user::run_on(CODE, STACK + PAGE_SIZE, code, data))
}

guest_sdk::entry!(main);
