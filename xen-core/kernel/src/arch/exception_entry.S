/* Exception entry stubs: one per vector 0-31. Each pushes a dummy error code
 * where the CPU pushes none, then the vector, so every frame has one shape, and
 * joins exception_common, which saves the general registers as a TrapFrame and
 * calls exception_dispatch(&mut TrapFrame). */

    .macro exception_without_code vector
    .balign 16
exception_\vector:
    push $0
    push $\vector
    jmp exception_common
    .endm

    .macro exception_with_code vector
    .balign 16
exception_\vector:
    push $\vector
    jmp exception_common
    .endm

    .text
    exception_without_code 0
    exception_without_code 1
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

exception_common:
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
    cld
    mov %rsp, %rdi
    call exception_dispatch
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
    add $16, %rsp                       /* vector and error code */
    iretq

    .section .rodata
    .balign 8
    .global EXCEPTION_STUBS
EXCEPTION_STUBS:
    .irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad exception_\vector
    .endr
