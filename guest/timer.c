/* TSC calibration and sleeping. */
#include "guest/timer.h"

#include <stdbool.h>

#include "guest/console.h"
#include "guest/idt.h"
#include "guest/lapic.h"
#include "guest/string.h"
#include "guest/tsc_calibrate.h"
#include "guest/x86.h"

#define MSR_TSC_DEADLINE 0x6e0
#define CPUID1_TSC_DEADLINE (1u << 24)
#define FALLBACK_HZ      1000000000ULL  /* no clock at all: guess 1 GHz */
#define MIN_SANE_HZ      10000000ULL

static uint64_t hz;
static int deadline_vector = -1;

void timer_init(void)
{
	static const struct {
		const char *name;
		uint64_t (*fn)(void);
	} sources[] = {
		{ "kvmclock", tsc_hz_from_kvmclock },
		{ "acpi-pm-timer", tsc_hz_from_pm_timer },
		{ "pit", tsc_hz_from_pit },
	};
	const char *by = "guess";

	if (hz)
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(sources) && !hz; i++) {
		hz = sources[i].fn();
		if (hz < MIN_SANE_HZ)
			hz = 0;
		else
			by = sources[i].name;
	}
	if (!hz)
		hz = FALLBACK_HZ;
	info("xenon-guest: tsc %lu kHz (%s)\n", (unsigned long)(hz / 1000), by);
}

uint64_t tsc_hz(void)
{
	return hz;
}

uint64_t tsc_after_us(uint64_t us)
{
	return rdtsc() + us * hz / 1000000;
}

void udelay(uint64_t us)
{
	uint64_t end = tsc_after_us(us);

	while (rdtsc() < end)
		cpu_relax();
}

static void timer_interrupt(void *ctx)
{
	(void)ctx;  /* waking the hlt is all it is for */
}

static bool deadline_timer_ready(void)
{
	if (deadline_vector >= 0)
		return true;
	if (!(cpuid(1, 0).ecx & CPUID1_TSC_DEADLINE))
		return false;
	deadline_vector = irq_alloc_vector(timer_interrupt, 0);
	if (deadline_vector < 0)
		return false;
	lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | (uint32_t)deadline_vector);
	full_fence();  /* the SDM wants the LVT write ordered before the MSR */
	return true;
}

void sleep_until(uint64_t deadline)
{
	if (!deadline_timer_ready()) {
		while (rdtsc() < deadline)
			cpu_relax();
		return;
	}
	irq_disable();
	while (rdtsc() < deadline) {
		wrmsr(MSR_TSC_DEADLINE, deadline);
		irq_enable_and_halt();
		irq_disable();
	}
	wrmsr(MSR_TSC_DEADLINE, 0);  /* disarm, in case another irq woke us */
}

bool wait_event_until(uint64_t deadline, bool (*cond)(void *ctx), void *ctx)
{
	bool timer = deadline && deadline_timer_ready(), met;

	irq_disable();
	for (;;) {
		met = cond(ctx);
		if (met || (deadline && rdtsc() >= deadline))
			break;
		if (deadline && !timer) {
			cpu_relax();	/* no way to be woken: poll */
			continue;
		}
		if (timer)
			wrmsr(MSR_TSC_DEADLINE, deadline);
		irq_enable_and_halt();
		irq_disable();
	}
	if (timer)
		wrmsr(MSR_TSC_DEADLINE, 0);
	return met;
}
