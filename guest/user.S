/*
 * user_call(fn, arg): into ring 3 with iretq, call fn(arg) there, and come
 * back through the #GP that the privileged hlt at user_exit_insn raises;
 * user_check_exit() (user.c) recognises it and jumps to user_resume with
 * fn's result.  Interrupts stay off in ring 3 (RFLAGS.IF = 0).
 */
#include "guest/layout.h"

	.section .text
	.globl user_call
user_call:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, user_saved_rsp(%rip)
	movq %rdi, %rax                 /* fn */
	movq %rsi, %rdi                 /* arg */
	pushq $(GDT_UDATA | 3)          /* SS */
	pushq $user_stack_top           /* RSP */
	pushq $0x2                      /* RFLAGS: IF = 0 */
	pushq $(GDT_UCODE64 | 3)        /* CS */
	pushq $user_trampoline          /* RIP */
	iretq

/* Ring 3 from here to user_exit_insn. */
user_trampoline:
	call *%rax
	.globl user_exit_insn
user_exit_insn:
	hlt                             /* #GP in ring 3: back to ring 0 */

/* void user_resume(uint64_t result): ring 0 again, on the exception's
 * stack; return from user_call() on the stack it was called on. */
	.globl user_resume
user_resume:
	movq user_saved_rsp(%rip), %rsp
	movl $GDT_DATA, %eax            /* ring 3 left null selectors here */
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movq %rdi, %rax
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .bss
	.balign 8
user_saved_rsp:
	.quad 0

	.section .noinit, "aw", @nobits
	.balign 16
	.skip USER_STACK_SIZE
user_stack_top:
