/* IDT set-up and the common interrupt dispatcher. */
#include "guest/idt.h"

#include "guest/console.h"
#include "guest/lapic.h"
#include "guest/layout.h"
#include "guest/memory.h"
#include "guest/power.h"
#include "guest/scenario.h"
#include "guest/user.h"
#include "guest/x86.h"

struct idt_gate {
	uint16_t offset_lo, selector;
	uint8_t ist, type;
	uint16_t offset_mid;
	uint32_t offset_hi, zero;
} __attribute__((packed));

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define GATE_INTERRUPT 0x8e  /* present, DPL 0, 64-bit interrupt gate */

extern const char isr_stubs[];  /* isr.S: 256 stubs, 16 bytes apart */

static struct idt_gate idt[256] __attribute__((aligned(16)));
/* Only entries below next_vector are ever read, so no need to zero them. */
static struct {
	irq_handler fn;
	void *ctx;
} handlers[256] NOINIT;
static unsigned next_vector = IRQ_VECTOR_BASE;

void (*breakpoint_hook)(struct irq_frame *f);

static void set_gate(unsigned vec, uint64_t addr)
{
	idt[vec] = (struct idt_gate){
		.offset_lo = (uint16_t)addr,
		.selector = GDT_CODE64,
		.type = GATE_INTERRUPT,
		.offset_mid = (uint16_t)(addr >> 16),
		.offset_hi = (uint32_t)(addr >> 32),
	};
}

void idt_load(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(p));
}

/* Gates for the exceptions and the spurious vector only; device vectors
 * get theirs when allocated.  An interrupt on a vector nobody asked for
 * meets a not-present gate and is reported as #NP (error code vector*8 +
 * 3) instead of being dropped silently.  Fewer gates also means a shorter
 * boot where each instruction is emulated. */
void idt_init(void)
{
	for (unsigned v = 0; v < 32; v++)
		set_gate(v, (uint64_t)isr_stubs + 16 * v);
	set_gate(SPURIOUS_VECTOR, (uint64_t)isr_stubs + 16 * SPURIOUS_VECTOR);
	idt_load();
}

int irq_alloc_vector(irq_handler fn, void *ctx)
{
	unsigned v = next_vector;

	if (v >= SPURIOUS_VECTOR)
		return -1;
	handlers[v].fn = fn;
	handlers[v].ctx = ctx;
	set_gate(v, (uint64_t)isr_stubs + 16 * v);
	next_vector++;
	return (int)v;
}

static const char *exception_name(uint64_t v)
{
	static const char *const names[] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "RES",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "exception";
}

/* Report the fault on every console, then power off: a test that hits an
 * exception has failed, and the monitor should not sit there forever. */
static __attribute__((noreturn)) void fatal_exception(const struct irq_frame *f)
{
	static int nested;
	uint64_t cr2 = read_cr2();

	if (nested++)
		halt_forever();  /* faulted while reporting: give up quietly */
	printk("xenon-guest: exception %s vector=%lu error=0x%lx rip=0x%lx "
	       "cr2=0x%lx rsp=0x%lx\n", exception_name(f->vector), f->vector,
	       f->error, f->rip, cr2, f->rsp);
	result(false, "reason=exception vector=%lu error=0x%lx rip=0x%lx cr2=0x%lx",
	       f->vector, f->error, f->rip, cr2);
	poweroff();
}

void isr_dispatch(struct irq_frame *f)
{
	uint64_t v = f->vector;

	if (v < 32 && (f->cs & 3) == 3)
		user_check_exit(f);  /* user_call() coming back, or a real fault */
	if (v == 3 && breakpoint_hook) {
		breakpoint_hook(f);
		return;
	}
	if (v < 32)
		fatal_exception(f);
	if (v == SPURIOUS_VECTOR)
		return;  /* spurious LAPIC interrupts take no EOI */
	if (v < next_vector)
		handlers[v].fn(handlers[v].ctx);
	lapic_eoi();
}
