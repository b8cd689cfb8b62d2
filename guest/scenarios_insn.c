/*
 * test=insn: instructions the nested KVM layer cannot emulate in a guest
 * kernel (int3, fwait, ldmxcsr/stmxcsr), which xenon-vmm completes for it
 * (vmm/insn_fallback.c).  Each must behave as on a CPU: int3 reaches the
 * #BP handler through the IDT with the architectural frame, fwait does
 * nothing, MXCSR takes and gives back a value.  On a host whose KVM runs
 * them itself the scenario passes the same way.
 */
#include <stdint.h>

#include "guest/idt.h"
#include "guest/scenario.h"
#include "guest/x86.h"

#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define RFLAGS_IF      (1ull << 9)
#define MXCSR_DEFAULT  0x1f80u
#define MXCSR_TEST     0x7f80u	/* all masked, round toward zero */
#define ROUNDS 3

void insn_probe_int3(void);
void insn_probe_fwait(void);
uint32_t insn_probe_mxcsr(uint32_t v);
void insn_probe_cx16(void *p);
extern const char insn_probe_int3_next[];

static struct {
	unsigned hits, bad_rip, bad_cs, bad_align, if_left_on;
} bp;

static uint64_t read_cs(void)
{
	uint64_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs;
}

static uint64_t read_rflags(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static void on_breakpoint(struct irq_frame *f)
{
	bp.hits++;
	bp.bad_rip += f->rip != (uint64_t)insn_probe_int3_next;
	bp.bad_cs += f->cs != read_cs();
	/* the CPU aligned the stack to 16 before pushing its 5 words */
	bp.bad_align += ((uint64_t)&f->ss + 8) % 16 != 0;
	/* through an interrupt gate: IF clear in the handler */
	bp.if_left_on += (read_rflags() & RFLAGS_IF) != 0;
}

static void sse_on(void)
{
	uint64_t cr4;

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
}

void scn_insn(void)
{
	uint32_t got, back;
	bool ok;

	breakpoint_hook = on_breakpoint;
	for (unsigned i = 0; i < ROUNDS; i++)
		insn_probe_int3();
	breakpoint_hook = NULL;
	for (unsigned i = 0; i < ROUNDS; i++)
		insn_probe_fwait();
	sse_on();
	got = insn_probe_mxcsr(MXCSR_TEST);
	back = insn_probe_mxcsr(MXCSR_DEFAULT);
	ok = bp.hits == ROUNDS && !bp.bad_rip && !bp.bad_cs && !bp.bad_align &&
	     !bp.if_left_on && got == MXCSR_TEST && back == MXCSR_DEFAULT;
	result(ok, "int3=%u bad_rip=%u bad_cs=%u bad_align=%u if_on=%u "
	       "fwait=%u mxcsr=0x%x mxcsr_back=0x%x", bp.hits, bp.bad_rip,
	       bp.bad_cs, bp.bad_align, bp.if_left_on, ROUNDS, got, back);
}

/* An instruction the monitor does not complete either: on the nested layer
 * the monitor must stop with the instruction named; where KVM runs it,
 * it just works. */
void scn_insn_unsupported(void)
{
	static uint64_t pair[2] __attribute__((aligned(16)));

	insn_probe_cx16(pair);
	result(true, "cmpxchg16b=ran");
}

/* The CPUID the monitor lets the guest see (docs/monitor.md, "CPUID
 * policy"): leaf 1 ECX/EDX and leaf 7.0 EBX/ECX/EDX, for the tests. */
void scn_cpuid(void)
{
	struct cpuid_regs l1 = cpuid(1, 0), l7 = cpuid(7, 0);

	result(true, "leaf1_ecx=0x%x leaf1_edx=0x%x leaf7_ebx=0x%x "
	       "leaf7_ecx=0x%x leaf7_edx=0x%x", l1.ecx, l1.edx, l7.ebx, l7.ecx,
	       l7.edx);
}
