/* PVH entry: QEMU (or any PVH loader) jumps here in 32-bit protected mode with
 * paging off and no stack; EBX holds the physical address of hvm_start_info.
 * We build nothing here: static tables identity-map the low 4 GiB (so Rust can
 * read what the loader left) and map the image at its link address. */

/* The PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY). Keep it 4-aligned: QEMU reads
 * the descriptor at 12 + ALIGN_UP(namesz, p_align), so an 8-aligned note makes
 * QEMU jump to the wrong address. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                 /* namesz */
    .long 8                 /* descsz */
    .long {XEN_ELFNOTE_PHYS32_ENTRY}
    .asciz "Xen"
    .balign 4
    .quad pvh_start32
    .balign 4

    .section .boot.text, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %edi                      /* keep the start-info address */

    mov %cr4, %eax
    or $(1 << 5), %eax                  /* CR4.PAE */
    mov %eax, %cr4

    mov $boot_pml4, %eax
    mov %eax, %cr3

    mov $0xC0000080, %ecx               /* EFER */
    rdmsr
    or $(1 << 8), %eax                  /* EFER.LME */
    wrmsr

    mov %cr0, %eax
    /* CR0.PG | CR0.WP | CR0.PE: WP makes ring 0 honour read-only pages, so a
     * guest cannot have the hypervisor write into its read-only page tables. */
    or $0x80010001, %eax
    mov %eax, %cr0

    lgdt boot_gdt_pointer
    ljmp $0x08, $long_mode_entry

    .code64
long_mode_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    movabs $__boot_stack_top, %rsp
    mov %edi, %edi                      /* upper halves are undefined after the mode switch */
    movabs $kernel_entry, %rax
    call *%rax
1:  hlt
    jmp 1b

    .section .boot.data, "aw"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff            /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff            /* 0x10: data */
boot_gdt_end:
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .balign 4096
boot_pml4:
    .quad boot_pdpt_low + 0x3           /* slot 0: identity map of the low 4 GiB */
    .fill 260, 8, 0
    .quad boot_pdpt_high + 0x3          /* slot 261: the image's link range */
    .fill 250, 8, 0

boot_pdpt_low:
    .quad boot_pd_low + 0x0000 + 0x3
    .quad boot_pd_low + 0x1000 + 0x3
    .quad boot_pd_low + 0x2000 + 0x3
    .quad boot_pd_low + 0x3000 + 0x3
    .fill 508, 8, 0

boot_pdpt_high:
    .fill 322, 8, 0
    .quad boot_pd_high + 0x3            /* 0xFFFF82D080000000 */
    .fill 189, 8, 0

boot_pd_low:                            /* 2048 x 2 MiB, present | writable | huge */
    .set boot_page, 0
    .rept 2048
    .quad (boot_page << 21) | 0x83
    .set boot_page, boot_page + 1
    .endr

boot_pd_high:                           /* the first 32 MiB of physical memory */
    .set boot_page, 0
    .rept 16
    .quad (boot_page << 21) | 0x83
    .set boot_page, boot_page + 1
    .endr
    .fill 496, 8, 0

/* Stacks, each above a guard page that the hypervisor's own page tables leave
 * unmapped, so an overflow faults instead of corrupting what lies below. */
    .section .stacks, "aw", @nobits
    .balign 4096
    .global __boot_stack_guard
__boot_stack_guard:
    .skip 4096
    .skip 262144
    .global __boot_stack_top
__boot_stack_top:
    .global __ist_stack_guard
__ist_stack_guard:
    .skip 4096
    .skip 16384
    .global __ist_stack_top
__ist_stack_top:
    /* NMI and #MC get their own stacks: either can arrive while the other
     * (or a double fault) is using its stack. */
    .global __nmi_stack_guard
__nmi_stack_guard:
    .skip 4096
    .skip 8192
    .global __nmi_stack_top
__nmi_stack_top:
    .global __mce_stack_guard
__mce_stack_guard:
    .skip 4096
    .skip 8192
    .global __mce_stack_top
__mce_stack_top:
    /* #DB gets its own too: a guest's debug trap deferred past `mov ss` lands
     * on the first instruction of syscall_entry, with RSP still the guest's. */
    .global __db_stack_guard
__db_stack_guard:
    .skip 4096
    .skip 16384
    .global __db_stack_top
__db_stack_top:
