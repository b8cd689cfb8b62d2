/*
 * The IDT: every exception prints what happened and powers off with a
 * failed result; vectors from IRQ_VECTOR_BASE up are handed out to device
 * drivers, which get a callback and an automatic LAPIC EOI.
 */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <stdint.h>

/* What isr_common (isr.S) leaves on the stack, lowest address first. */
struct irq_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;  /* pushed by the CPU */
};

#define IRQ_VECTOR_BASE  0x30
#define SPURIOUS_VECTOR  0xff

typedef void (*irq_handler)(void *ctx);

/* Build and load the IDT on the boot CPU. */
void idt_init(void);
/* Load the (already built) IDT on an application processor. */
void idt_load(void);
/* A free vector that calls handler(ctx); -1 when none is left. */
int irq_alloc_vector(irq_handler handler, void *ctx);

/* Called for a #BP (int3) in ring 0 instead of failing the test; it
 * returns to the instruction after the int3.  NULL: fatal as any other
 * exception. */
extern void (*breakpoint_hook)(struct irq_frame *f);

void isr_dispatch(struct irq_frame *f);

#endif
