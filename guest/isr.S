/*
 * Interrupt and exception entry.  One 16-byte stub per vector pushes a
 * dummy error code where the CPU pushes none, then the vector number, and
 * joins isr_common, which saves the general registers and calls
 * isr_dispatch(struct irq_frame *) (idt.c).  Stub v is at isr_stubs + 16*v.
 */
	.section .text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	/* the CPU pushed an error code */
	.else
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	cld
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi    /* 16-byte aligned here: 5 + 2 + 15 quadwords */
	call isr_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp     /* vector and error code */
	iretq
