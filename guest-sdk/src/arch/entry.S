/* The guest's Xen ELF notes, entry point, hypercall page and exception stubs. */

    .macro xen_note_begin type
    .balign 4
    .long 4                         /* namesz: "Xen\0" */
    .long 2f - 1f                   /* descsz */
    .long \type
    .asciz "Xen"
    .balign 4
1:
    .endm

    .macro xen_note_end
2:  .balign 4
    .endm

    .section .note.Xen, "a", @note
    xen_note_begin {XEN_ELFNOTE_GUEST_OS}
    .asciz "xen-core-guest"
    xen_note_end
    xen_note_begin {XEN_ELFNOTE_XEN_VERSION}
    .asciz "xen-3.0"
    xen_note_end
    xen_note_begin {XEN_ELFNOTE_LOADER}
    .asciz "generic"
    xen_note_end
    xen_note_begin {XEN_ELFNOTE_VIRT_BASE}     /* where the linker script links */
    .quad __guest_virt_base
    xen_note_end
    xen_note_begin {XEN_ELFNOTE_PADDR_OFFSET}  /* p_paddr = p_vaddr */
    .quad __guest_virt_base
    xen_note_end
    xen_note_begin {XEN_ELFNOTE_ENTRY}
    .quad _start
    xen_note_end
    xen_note_begin {XEN_ELFNOTE_HYPERCALL_PAGE}
    .quad hypercall_page
    xen_note_end

/* Entered in guest kernel mode with RSI = start_info's virtual address and
 * RSP at the top of the builder's boot stack, which is one page: too small
 * for Rust code with a few buffers on the stack, so switch to our own. */
    .section .text.entry, "ax"
    .global _start
_start:
    cld
    mov %rsi, %rdi
    lea guest_sdk_stack_top(%rip), %rsp
    call guest_sdk_start
    ud2

/* The guest kernel's stack: 64 KiB in bss (the builder zeroes it). */
    .section .bss.guest_sdk_stack, "aw", @nobits
    .balign 16
guest_sdk_stack:
    .skip 65536
guest_sdk_stack_top:

/* Filled with hypercall stubs by the hypervisor before the first instruction. */
    .section .hypercall_page, "ax"
    .balign 4096
    .global hypercall_page
hypercall_page:
    .fill {HYPERCALL_PAGE_SIZE}, 1, 0xcc

/* Exception stubs. The hypervisor's bounce frame holds RCX and R11 on top of
 * an interrupt frame; pop them back, add the vector (and a zero error code
 * where the CPU has none) so every frame has one shape, save the registers
 * as a guest_sdk::trap_frame::TrapFrame and call guest_sdk_trap. Return with a
 * plain iretq: CPL 3 to CPL 3, with RPL 3 set on the saved CS and SS, which
 * the hypervisor cleared to mark kernel mode. */
    .macro guest_trap_without_code vector
    .balign 16
guest_trap_\vector:
    pop %rcx
    pop %r11
    push $0
    push $\vector
    jmp guest_trap_common
    .endm

    .macro guest_trap_with_code vector
    .balign 16
guest_trap_\vector:
    pop %rcx
    pop %r11
    push $\vector                   /* the error code is already below it */
    jmp guest_trap_common
    .endm

    .text
    .irp vector, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
    guest_trap_without_code \vector
    .endr
    .irp vector, 8,10,11,12,13,14,17,21,29,30
    guest_trap_with_code \vector
    .endr

guest_trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld                             /* Rust wants DF clear; iretq restores it */
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    call guest_sdk_trap
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                   /* vector, error code */
    testb $3, 8(%rsp)               /* saved CS with RPL 3: from user mode */
    jnz 1f
    orq $3, 8(%rsp)                 /* CS: RPL 3 */
    orq $3, 32(%rsp)                /* SS: RPL 3 */
    iretq
/* Back to user mode only through the hypervisor, which switches to the
 * user page tables: the stack is an iret_context once `flags` (0) is
 * pushed where the error code was, and the iret stub pushes the rest. */
1:  push $0
    jmp hypercall_page + {IRET_STUB}

/* A user program's `syscall`, bounced by the hypervisor to this callback
 * on the kernel stack: RCX and R11 (its next RIP and its RFLAGS) on top of
 * an interrupt frame with CS RPL 3. Given the shape of an exception with
 * vector SYSCALL_VECTOR, it goes through the trap path, whose return to
 * user mode is the iret hypercall above. */
    .global guest_sdk_syscall_entry
    .balign 16
guest_sdk_syscall_entry:
    pop %rcx
    pop %r11
    push $0
    push ${SYSCALL_VECTOR}
    jmp guest_trap_common

/* guest_sdk_enter_user(entry, stack, saved_rsp, cs, ss): enters the user
 * program at `entry` with `stack` on code and stack selectors `cs` and
 * `ss`, keeping the kernel's callee-saved registers on this stack and its
 * RSP at `saved_rsp`, for guest_sdk_leave_user. The iret_context: flags,
 * RIP, CS, RFLAGS (IF), RSP, SS; the iret stub pushes RCX, R11 and RAX, all
 * zero, and no other kernel value reaches the program. */
    .global guest_sdk_enter_user
guest_sdk_enter_user:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdx)
    push %r8
    push %rsi
    push $0x202
    push %rcx
    push %rdi
    push $0
    xor %eax, %eax
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %edi, %edi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    jmp hypercall_page + {IRET_STUB}

/* guest_sdk_leave_user(saved_rsp, code): back on the kernel stack that
 * guest_sdk_enter_user left, which returns `code`. */
    .global guest_sdk_leave_user
guest_sdk_leave_user:
    mov %rdi, %rsp
    mov %rsi, %rax
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret

    .section .rodata
    .balign 8
    .global GUEST_TRAP_STUBS
GUEST_TRAP_STUBS:
    .irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad guest_trap_\vector
    .endr

/* The shared area (arch/shared_page.rs, laid out in shared_area.rs): pages
 * of bss that the SDK remaps to shared_info, the grant table's frames, its
 * own rings and grant windows. Until then they read as zeroes, so nothing
 * that reads them early can fault. */
    .section .bss.guest_sdk_shared_area, "aw", @nobits
    .balign 4096
    .global guest_sdk_shared_area
guest_sdk_shared_area:
    .skip {SHARED_AREA_BYTES}

/* The event upcall. The hypervisor's bounce frame is RCX, R11, RIP, CS,
 * RFLAGS, RSP, SS, with events masked. Pop RCX and R11 back and push a zero
 * `flags` word: the stack is then the iret_context the hypercall page's iret
 * stub completes by pushing RCX, R11 and RAX itself. The other caller-saved
 * registers are kept around the Rust dispatcher. The iret hypercall restores
 * the event mask the frame saved (RFLAGS.IF), and an upcall that became due
 * meanwhile is delivered on its way out: none is lost, and the stack does
 * not grow with each one. */
    .text
    .global guest_sdk_upcall_entry
    .balign 16
guest_sdk_upcall_entry:
    pop %rcx
    pop %r11
    push $0                         /* iret_context.flags: not in a syscall */
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    push %rbp
    cld                             /* an upcall may interrupt a backward copy */
    mov %rsp, %rbp
    and $-16, %rsp
    call guest_sdk_upcall
    mov %rbp, %rsp
    pop %rbp
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    jmp hypercall_page + {IRET_STUB}
