/* Scenarios about the machine: smp, reboot, crash, fault, heartbeat. */
#include <stdint.h>

#include "guest/acpi.h"
#include "guest/power.h"
#include "guest/scenario.h"
#include "guest/smp.h"
#include "guest/timer.h"
#include "guest/x86.h"

#define HEARTBEAT_US 50000
/* The top page of the lower canonical half: never mapped (PML4[255]). */
#define UNMAPPED_ADDR 0x00007ffffffff000ULL

void scn_smp(void)
{
	unsigned expected = acpi.nr_cpus ? acpi.nr_cpus : 1;
	unsigned cpus = smp_start_aps();

	result(cpus == expected, "cpus=%u expected=%u", cpus, expected);
}

void scn_reboot(void)
{
	result(true, "");
	reboot();
}

/* An empty IDT turns the page fault into #GP, #DF and a triple fault. */
void scn_crash(void)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) no_idt = { 0, 0 };

	printk("xenon-guest: crashing\n");
	irq_disable();
	__asm__ volatile("lidt %0" : : "m"(no_idt));
	(void)*(volatile uint8_t *)UNMAPPED_ADDR;
	halt_forever();  /* not reached */
}

/* The exception path itself: a page fault with the IDT in place must be
 * reported (vector 14, cr2) with a failed result and a power-off. */
void scn_fault(void)
{
	printk("xenon-guest: faulting at 0x%llx\n", UNMAPPED_ADDR);
	(void)*(volatile uint8_t *)UNMAPPED_ADDR;
	result(false, "reason=no-fault");  /* not reached */
}

/* A tick every 50 ms, forever.  Ticks missed while the domain was paused
 * are skipped, not replayed in a burst. */
void scn_heartbeat(void)
{
	uint64_t period, next;

	timer_init();
	period = tsc_hz() * HEARTBEAT_US / 1000000;
	next = rdtsc() + period;
	for (unsigned n = 1;; n++) {
		sleep_until(next);
		printk("xenon-guest: tick %u\n", n);
		next += period;
		if (rdtsc() > next + period)
			next = rdtsc() + period;
	}
}
