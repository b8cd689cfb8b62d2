/*
 * AP bring-up.  APs are started one at a time: the trampoline has a single
 * stack slot, and a serial start-up makes a stuck AP easy to name.  Each
 * AP loads the shared IDT, counts itself online and halts for good.
 */
#include "guest/smp.h"

#include <stdint.h>

#include "guest/acpi.h"
#include "guest/console.h"
#include "guest/idt.h"
#include "guest/lapic.h"
#include "guest/layout.h"
#include "guest/memory.h"
#include "guest/string.h"
#include "guest/timer.h"
#include "guest/x86.h"

#define SIPI_RETRY_US  10000   /* second SIPI if the first did not start it */
#define AP_TIMEOUT_US  500000  /* then give this AP up */

extern char ap_tramp_start[], ap_tramp_end[], ap_tramp_cr3[], ap_tramp_stack[];

static unsigned cpus_online = 1;

/* The copy of a trampoline variable at TRAMPOLINE_ADDR. */
static void *tramp_var(const char *sym)
{
	return (void *)(uint64_t)(TRAMPOLINE_ADDR + (sym - ap_tramp_start));
}

static unsigned online(void)
{
	return __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE);
}

void ap_main(void)
{
	idt_load();
	__atomic_fetch_add(&cpus_online, 1, __ATOMIC_RELEASE);
	halt_forever();
}

static bool wait_online(unsigned target, uint64_t us)
{
	uint64_t end = tsc_after_us(us);

	while (online() < target)
		if (rdtsc() > end)
			return false;
		else
			cpu_relax();
	return true;
}

static bool start_ap(uint32_t apic_id)
{
	void *stack = page_alloc(AP_STACK_SIZE / PAGE_SIZE);
	unsigned target = online() + 1;

	if (!stack)
		return false;
	*(uint64_t *)tramp_var(ap_tramp_stack) = (uint64_t)stack + AP_STACK_SIZE;
	full_fence();
	lapic_send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
	lapic_send_ipi(apic_id, ICR_STARTUP | SIPI_VECTOR);
	if (wait_online(target, SIPI_RETRY_US))
		return true;
	lapic_send_ipi(apic_id, ICR_STARTUP | SIPI_VECTOR);
	return wait_online(target, AP_TIMEOUT_US);
}

unsigned smp_start_aps(void)
{
	uint32_t self = lapic_id();

	timer_init();
	memcpy((void *)TRAMPOLINE_ADDR, ap_tramp_start,
	       (size_t)(ap_tramp_end - ap_tramp_start));
	*(uint32_t *)tramp_var(ap_tramp_cr3) = (uint32_t)read_cr3();
	for (unsigned i = 0; i < acpi.nr_cpus; i++) {
		uint32_t id = acpi.apic_ids[i];

		if (id == self)
			continue;
		if (!start_ap(id))
			printk("xenon-guest: cpu with apic id %u did not start\n", id);
	}
	return online();
}
