/*
 * Instructions the nested KVM layer cannot emulate in a guest kernel, for
 * test=insn (scenarios_insn.c): xenon-vmm completes them itself
 * (vmm/insn_fallback.c).  guest/check-insns.sh refuses such instructions
 * everywhere else, so they live only in functions named insn_probe_*.
 */
	.section .text

	/* int3; the #BP hook sees the RIP after it: insn_probe_int3_next */
	.globl insn_probe_int3, insn_probe_int3_next
insn_probe_int3:
	int3
insn_probe_int3_next:
	ret

	.globl insn_probe_fwait
insn_probe_fwait:
	fwait
	ret

	/*
	 * uint32_t insn_probe_mxcsr(uint32_t v): load v into MXCSR and read it
	 * back, through four addressing forms the decoder must get right:
	 * [rsp] (SIB), [rsp+4] (SIB + disp8), [rip+disp32], [rsi+rcx*4].
	 * Returns what the last stmxcsr stored, or ~0 if the forms disagree.
	 */
	.globl insn_probe_mxcsr
insn_probe_mxcsr:
	subq $16, %rsp
	movl %edi, (%rsp)
	ldmxcsr (%rsp)
	stmxcsr 4(%rsp)
	movl 4(%rsp), %eax
	movl %eax, probe_mxcsr_slot(%rip)
	ldmxcsr probe_mxcsr_slot(%rip)
	leaq (%rsp), %rsi
	movq $2, %rcx
	stmxcsr (%rsi,%rcx,4)
	movl 8(%rsp), %edx
	addq $16, %rsp
	cmpl %eax, %edx
	jne 1f
	ret
1:	movl $0xffffffff, %eax
	ret

	.section .data
	.balign 4
probe_mxcsr_slot:
	.long 0

	.section .text
	/* lock cmpxchg16b (%rdi): one the monitor does not complete, for
	 * test=insn-unsupported (the monitor must stop with a clear error) */
	.globl insn_probe_cx16
insn_probe_cx16:
	pushq %rbx
	xorl %eax, %eax
	xorl %edx, %edx
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	lock cmpxchg16b (%rdi)
	popq %rbx
	ret
