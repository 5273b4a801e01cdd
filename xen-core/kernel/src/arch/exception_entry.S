/* Every way into the hypervisor: exception stubs for vectors 0-31, the
 * `int 0x82` hypercall gate and the `syscall` entry. Each builds the same frame
 * (a dummy error code where the CPU pushes none, then a vector number), joins
 * trap_common, which saves the general registers as a TrapFrame and calls
 * trap_dispatch(&mut TrapFrame), and returns to whatever the frame then says
 * with iretq.
 *
 * The placeholders in braces are Rust constants (arch/mod.rs): Xen's selectors
 * from xen_abi, the frame's size and vectors from xen_core::trap_frame. */

    .macro exception_without_code vector
    .balign 16
exception_\vector:
    push $0
    push $\vector
    jmp trap_common
    .endm

    .macro exception_with_code vector
    .balign 16
exception_\vector:
    push $\vector
    jmp trap_common
    .endm

    .text
    exception_without_code 0

/* #DB arrives on its own IST stack. From ring 0 (a guest's debug trap
 * deferred past `mov ss` onto the first instruction of an entry, RSP perhaps
 * still the guest's) it stays there. From ring 3 the hardware frame moves to
 * the top of the boot stack, where every other entry from ring 3 leaves its
 * frame (the boot stack is empty while a guest runs), so that the guest's
 * #DB is handled like its other exceptions and the IST stack is free again
 * before anything can switch domains. */
    .balign 16
exception_1:
    testb $3, 8(%rsp)                   /* the interrupted CS: RPL 3 is a guest */
    jz 1f
    lea __boot_stack_top(%rip), %rsp
    push __db_stack_top-8(%rip)         /* SS */
    push __db_stack_top-16(%rip)        /* RSP */
    push __db_stack_top-24(%rip)        /* RFLAGS */
    push __db_stack_top-32(%rip)        /* CS */
    push __db_stack_top-40(%rip)        /* RIP */
1:
    push $0
    push $1
    jmp trap_common

    exception_without_code 2
    exception_without_code 3
    exception_without_code 4
    exception_without_code 5
    exception_without_code 6
    exception_without_code 7
    exception_with_code 8
    exception_without_code 9
    exception_with_code 10
    exception_with_code 11
    exception_with_code 12
    exception_with_code 13
    exception_with_code 14
    exception_without_code 15
    exception_without_code 16
    exception_with_code 17
    exception_without_code 18
    exception_without_code 19
    exception_without_code 20
    exception_with_code 21
    exception_without_code 22
    exception_without_code 23
    exception_without_code 24
    exception_without_code 25
    exception_without_code 26
    exception_without_code 27
    exception_without_code 28
    exception_with_code 29
    exception_with_code 30
    exception_without_code 31
    /* The remapped PIC's vectors: spurious IRQs arrive here, and are ignored. */
    .irp vector, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    exception_without_code \vector
    .endr
    exception_without_code {HYPERCALL_VECTOR}
    /* The local APIC's timer and spurious vectors. */
    exception_without_code {TIMER_VECTOR}
    exception_without_code {SPURIOUS_VECTOR}

/* The registers the SysV ABI lets a callee clobber, in TrapFrame order (RAX
 * highest). trap_common saves the callee-saved ones below them too. */
    .macro push_caller_saved
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    .endm

    .macro pop_caller_saved
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    .endm

/* After `syscall` (RCX = guest RIP, R11 = guest RFLAGS, RSP still the
 * guest's): switch to the hypervisor stack (one CPU: a static scratch slot
 * for the guest RSP suffices) and push the frame an interrupt from ring 3
 * would have, with code selector `cs`, then error code 0 and `vector`. */
    .macro syscall_frame cs, vector
    mov %rsp, syscall_guest_rsp(%rip)
    lea __boot_stack_top(%rip), %rsp
    push ${FLAT_KERNEL_SS}              /* SS */
    push syscall_guest_rsp(%rip)        /* RSP */
    push %r11                           /* RFLAGS */
    push $\cs                           /* CS */
    push %rcx                           /* RIP */
    push $0                             /* error code */
    push $\vector
    .endm

/* `syscall` from ring 3, the hypercall fast path; RFLAGS.IF is already clear
 * (SFMASK). Build the frame an interrupt from ring 3 would have, but save only
 * the caller-saved registers: Rust preserves RBX, RBP and R12-R15 itself, and
 * no hypercall touches them, so their slots stay undefined (see
 * xen_core::trap_frame::TrapFrame). */
    .balign 16
    .global syscall_entry
syscall_entry:
    syscall_frame {FLAT_KERNEL_CS}, {SYSCALL_VECTOR}
    push_caller_saved
    sub $48, %rsp                       /* RBX, RBP, R12-R15: not saved */
    mov %rsp, %rdi
    call syscall_dispatch
    test %eax, %eax
    jnz syscall_reschedule
    add $48, %rsp
    pop_caller_saved
    add $16, %rsp                       /* vector and error code */
    iretq

/* The hypercall asked for the scheduler, which may switch to another vCPU
 * and so needs the whole frame: Rust has restored the guest's callee-saved
 * registers by now, so store them in their slots, then leave through the
 * full exit, which restores every register from the frame. */
syscall_reschedule:
    mov %r15, 0(%rsp)
    mov %r14, 8(%rsp)
    mov %r13, 16(%rsp)
    mov %r12, 24(%rsp)
    mov %rbp, 32(%rsp)
    mov %rbx, 40(%rsp)
    mov %rsp, %rdi
    call syscall_reschedule_dispatch
    jmp trap_exit

/* `syscall` from 32-bit (compatibility mode) guest code, via CSTAR. 64-bit PV
 * guests have no use for it, and without this stub CSTAR would be 0: the CPU
 * would run whatever is at address 0 in ring 0. Build an ordinary frame (CS
 * is the guest's 32-bit selector) and let trap_dispatch crash the domain. */
    .balign 16
    .global syscall32_entry
syscall32_entry:
    syscall_frame {FLAT_RING3_CS32}, {SYSCALL32_VECTOR}
    jmp trap_common

trap_common:
    push_caller_saved
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi
    call trap_dispatch
trap_exit:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    pop_caller_saved
    add $16, %rsp                       /* vector and error code */
    iretq

/* enter_guest(frame): starts (or resumes) a guest from a TrapFrame held
 * elsewhere: copies it to the top of the hypervisor stack, where every entry
 * from ring 3 leaves its frame, and returns through the common exit. Whatever
 * ran on that stack before is abandoned. */
    .global enter_guest
enter_guest:
    mov %rdi, %rsi
    lea __boot_stack_top(%rip), %rsp
    sub ${TRAP_FRAME_SIZE}, %rsp
    mov %rsp, %rdi
    mov $({TRAP_FRAME_SIZE} / 8), %ecx
    cld
    rep movsq
    jmp trap_exit

/* copy_guest_bytes(dst, src, len) -> bytes not copied. The one routine that
 * touches guest virtual memory: quadwords first (a bounce frame is seven of
 * them), then the bytes after. A page fault at the `rep movsq` resumes at
 * its fixup, which goes on byte by byte from the quadword that faulted, so
 * the copy stops exactly at the first byte it cannot reach; a page fault
 * at the `rep movsb` resumes at the fixup with RCX = what was left (see
 * trap_dispatch). */
    .global copy_guest_bytes
copy_guest_bytes:
    mov %rdx, %rcx
    shr $3, %rcx
    and $7, %edx
    .global copy_guest_quads_fault_point
copy_guest_quads_fault_point:
    rep movsq
    mov %rdx, %rcx
    .global copy_guest_bytes_fault_point
copy_guest_bytes_fault_point:
    rep movsb
    .global copy_guest_bytes_fixup
copy_guest_bytes_fixup:
    mov %rcx, %rax
    ret
    .global copy_guest_quads_fixup
copy_guest_quads_fixup:
    lea (%rdx, %rcx, 8), %rcx
    jmp copy_guest_bytes_fault_point


    .bss
    .balign 8
syscall_guest_rsp:
    .quad 0

    .section .rodata
    .balign 8
    .global EXCEPTION_STUBS
EXCEPTION_STUBS:
    .irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad exception_\vector
    .endr
    .global PIC_STUBS
PIC_STUBS:
    .irp vector, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .quad exception_\vector
    .endr
    .global HYPERCALL_GATE_STUB
HYPERCALL_GATE_STUB:
    .quad exception_{HYPERCALL_VECTOR}
    .global APIC_STUBS
APIC_STUBS:
    .quad exception_{TIMER_VECTOR}
    .quad exception_{SPURIOUS_VECTOR}
