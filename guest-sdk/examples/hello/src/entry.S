/* Xen ELF notes, the entry point and the hypercall page. */

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
    xen_note_begin 6                            /* GUEST_OS */
    .asciz "xen-core-hello"
    xen_note_end
    xen_note_begin 5                            /* XEN_VERSION */
    .asciz "xen-3.0"
    xen_note_end
    xen_note_begin 8                            /* LOADER */
    .asciz "generic"
    xen_note_end
    xen_note_begin 3                            /* VIRT_BASE */
    .quad 0xFFFFFFFF80000000
    xen_note_end
    xen_note_begin 4                            /* PADDR_OFFSET: p_paddr = p_vaddr */
    .quad 0xFFFFFFFF80000000
    xen_note_end
    xen_note_begin 1                            /* ENTRY */
    .quad _start
    xen_note_end
    xen_note_begin 2                            /* HYPERCALL_PAGE */
    .quad hypercall_page
    xen_note_end

/* Entered in guest kernel mode with RSI = start_info's virtual address and RSP
 * at the top of the builder's boot stack. */
    .section .text.entry, "ax"
    .global _start
_start:
    cld
    mov %rsi, %rdi
    and $-16, %rsp
    call hello_main
1:  jmp 1b

/* Filled with hypercall stubs by the hypervisor before the first instruction. */
    .section .hypercall_page, "ax"
    .balign 4096
    .global hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc
