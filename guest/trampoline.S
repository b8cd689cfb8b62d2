/*
 * AP start-up trampoline.  smp.c copies [ap_tramp_start, ap_tramp_end) to
 * TRAMPOLINE_ADDR and fills in the data words at the end; a SIPI with
 * vector SIPI_VECTOR then starts an AP here in real mode with
 * CS = TRAMPOLINE_ADDR >> 4, IP = 0.  The AP climbs to 32-bit protected
 * mode and then straight to long mode on the BSP's page tables, loads its
 * own stack and calls ap_main() (smp.c) in the kernel image.
 *
 * Addresses inside the copy are written as TRAMPOLINE_ADDR + (label -
 * ap_tramp_start): the code runs at the copy, not where it was linked.
 */
#include "guest/layout.h"

#define TRAMP(label) (TRAMPOLINE_ADDR + (label - ap_tramp_start))

	.section .text.trampoline, "ax"
	.code16
	.globl ap_tramp_start
ap_tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdtr - ap_tramp_start  /* %ds-relative in real mode */
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $GDT_CODE32, $TRAMP(tramp_32)

	.code32
tramp_32:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl TRAMP(ap_tramp_cr3), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmp $GDT_CODE64, $TRAMP(tramp_64)

	.code64
tramp_64:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq TRAMP(ap_tramp_stack), %rsp
	movq $ap_main, %rax             /* in the kernel image, not the copy */
	call *%rax                      /* a call keeps the C stack alignment */
1:	cli
	hlt
	jmp 1b

	.balign 8
tramp_gdtr:                             /* lgdtl in real mode: 32-bit base */
	.word GDT_BYTES - 1
	.long gdt
	.balign 8
	.globl ap_tramp_cr3, ap_tramp_stack
ap_tramp_cr3:
	.long 0
	.long 0
ap_tramp_stack:
	.quad 0
	.globl ap_tramp_end
ap_tramp_end:
