/*
 * PVH entry: the loader (xenon-vmm, QEMU, Xen) starts us in 32-bit
 * protected mode, paging off, flat segments, %ebx = struct hvm_start_info,
 * and no stack.  We load our own GDT, switch on long mode with an identity
 * map of the first 4 GiB (RAM below the hole plus the 32-bit MMIO hole),
 * zero .bss and call C.  RAM above 4 GiB is mapped later from C
 * (memory.c), which knows the memory map.
 *
 * On the nested KVM of the development machines every guest instruction
 * costs ~0.4 us (it is emulated), so this path is kept short: the page
 * tables are built by the assembler, not by a loop at boot, and .bss is
 * wiped 8 bytes per iteration once in 64-bit mode.
 */
#include "guest/layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define TABLE (PTE_P + PTE_W + PTE_U)           /* points at a table */
#define LARGE (PTE_P + PTE_W + PTE_U + PTE_PS)  /* maps a 2 MiB/1 GiB page */

/* The note QEMU and xenon-vmm look for.  QEMU pads the name to the
 * segment's alignment, so keep the note 4-byte aligned; the descriptor
 * is 8 bytes, as Linux's, because QEMU reads a 64-bit value for ELF64. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4f - 3f        /* namesz */
	.long 6f - 5f        /* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
3:	.asciz "Xen"
4:	.balign 4
5:	.quad pvh_start
6:	.balign 4

	.section .text.boot, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	movl %ebx, %esi                 /* start_info, for guest_main */

	lgdt gdt_ptr
	ljmp $GDT_CODE32, $1f
1:	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss

	/* With 1 GiB pages, point the PDPT straight at the four GiBs. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb 2f
	movl $0x80000001, %eax
	cpuid
	btl $CPUID_PDPE1GB_BIT, %edx
	jnc 2f
	movl $LARGE, boot_pdpt
	movl $(0x40000000 + LARGE), boot_pdpt + 8
	movl $(0x80000000 + LARGE), boot_pdpt + 16
	movl $(0xc0000000 + LARGE + PTE_PWT + PTE_PCD), boot_pdpt + 24

2:	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $GDT_CODE64, $long_mode_entry

	.code64
long_mode_entry:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $boot_stack_top, %rsp

	movl $__bss_start, %edi         /* guest.ld aligns both ends to 8 */
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $3, %ecx
	rep stosq                       /* %rax is 0 */

	movl %esi, %edi                 /* start_info */
	call guest_main
	/* guest_main does not return; if it ever does, stop here. */
1:	cli
	hlt
	jmp 1b

/* GDT shared by the BSP and the APs (trampoline.S loads it too).  In
 * .data, not .rodata: the CPU sets the accessed bits when it loads a
 * selector. */
	.section .data
	.balign 16
	.globl gdt
gdt:
	.quad 0                         /* null */
	.quad 0x00af9a000000ffff        /* GDT_CODE64 */
	.quad 0x00cf92000000ffff        /* GDT_DATA: flat 4 GiB read/write */
	.quad 0x00cf9a000000ffff        /* GDT_CODE32: flat 4 GiB */
	.quad 0x00affa000000ffff        /* GDT_UCODE64: DPL 3 */
	.quad 0x00cff2000000ffff        /* GDT_UDATA: DPL 3 */
	.globl gdt_tss
gdt_tss:
	.quad 0, 0                      /* GDT_TSS: filled in by user_init() */
gdt_end:
	.if gdt_end - gdt != GDT_BYTES
	.error "GDT_BYTES in layout.h does not match the GDT"
	.endif
	.balign 8
	.word 0                         /* so the base below is 4-aligned */
gdt_ptr:
	.word GDT_BYTES - 1
	.quad gdt

/*
 * The boot page tables, complete in the image: PML4[0] → PDPT, whose first
 * four entries point at four page directories of 2 MiB pages covering
 * [0, 4 GiB).  The top GiB (the MMIO hole: PCI BARs, IOAPIC, LAPIC) is
 * uncached.  pvh_start rewrites the four PDPT entries into 1 GiB pages
 * when the CPU has them.  Every level has PTE_U so user_call() can run
 * code and touch memory anywhere.
 */
	.balign 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:
	.quad boot_pdpt + TABLE
	.fill 511, 8, 0
boot_pdpt:
	.quad boot_pd + TABLE
	.quad boot_pd + 0x1000 + TABLE
	.quad boot_pd + 0x2000 + TABLE
	.quad boot_pd + 0x3000 + TABLE
	.fill 508, 8, 0
boot_pd:
	.set pde, 0
	.rept 2048
	.if pde >= 1536
	.quad (pde << 21) + LARGE + PTE_PWT + PTE_PCD
	.else
	.quad (pde << 21) + LARGE
	.endif
	.set pde, pde + 1
	.endr

/* The stack needs no zeroing: keeping it out of .bss means only the
 * pages it really uses get touched. */
	.section .noinit, "aw", @nobits
	.balign 16
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:
