/* The TSS for ring-3 excursions, and recognising their way back. */
#include "guest/user.h"

#include "guest/layout.h"
#include "guest/memory.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed));

#define TSS_AVAILABLE_64 0x89  /* present, type 9 */

extern uint64_t gdt_tss[2];     /* entry.S */
extern const char user_exit_insn[];
__attribute__((noreturn)) void user_resume(uint64_t result);  /* user.S */

static struct tss tss;
static uint8_t ring0_stack[RING0_STACK_SIZE] NOINIT
	__attribute__((aligned(16)));

void user_init(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

	tss.rsp[0] = (uint64_t)ring0_stack + sizeof(ring0_stack);
	tss.iomap_base = sizeof(tss);  /* no I/O bitmap: ring 3 gets no ports */
	gdt_tss[0] = limit | (base & 0xffffff) << 16 |
		     (uint64_t)TSS_AVAILABLE_64 << 40 | (base >> 24 & 0xff) << 56;
	gdt_tss[1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)GDT_TSS));
}

void user_check_exit(const struct irq_frame *f)
{
	if (f->vector == 13 && f->rip == (uint64_t)user_exit_insn)
		user_resume(f->rax);
}
