/*
 * Three ways to learn the TSC frequency, best first:
 *  - kvmclock: KVM publishes the TSC-to-nanoseconds scale it uses, which
 *    is exact and costs two MSR writes;
 *  - the ACPI PM timer (3.579545 MHz), counted for CALIBRATE_US;
 *  - PIT channel 2 in one-shot mode, for machines without ACPI.
 * Each returns 0 when its clock is not there.
 */
#include "guest/tsc_calibrate.h"

#include "guest/acpi.h"
#include "guest/memory.h"
#include "guest/string.h"
#include "guest/x86.h"

#define CALIBRATE_US       2000u
#define PM_TIMER_HZ        3579545u
#define PIT_HZ             1193182u
#define PORT_PIT_CH2       0x42
#define PORT_PIT_CMD       0x43
#define PORT_SPEAKER       0x61   /* bit 0: gate 2, bit 5: OUT2 */
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

/* The first 32 bytes of what KVM writes for MSR_KVM_SYSTEM_TIME_NEW. */
struct pvclock_time {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
};

static bool running_on_kvm(void)
{
	struct cpuid_regs r = cpuid(0x40000000, 0);
	char sig[12];

	__builtin_memcpy(sig, &r.ebx, 4);
	__builtin_memcpy(sig + 4, &r.ecx, 4);
	__builtin_memcpy(sig + 8, &r.edx, 4);
	return !memcmp(sig, "KVMKVMKVM\0\0\0", 12) && r.eax >= 0x40000001;
}

/* KVM converts with ns = ticks * mul * 2^(shift - 32); invert that. */
uint64_t tsc_hz_from_kvmclock(void)
{
	volatile struct pvclock_time *t;
	uint64_t hz;

	if (!running_on_kvm() ||
	    !(cpuid(0x40000001, 0).eax & KVM_FEATURE_CLOCKSOURCE2))
		return 0;
	t = page_alloc(1);
	if (!t)
		return 0;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)t | 1);
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);  /* one sample is all we need */
	if (!t->tsc_to_system_mul || (t->version & 1))
		return 0;
	hz = (1000000000ULL << 32) / t->tsc_to_system_mul;
	return t->tsc_shift >= 0 ? hz >> t->tsc_shift : hz << -t->tsc_shift;
}

static uint32_t pm_timer_read(void)
{
	uint32_t v = inl(acpi.pm_tmr);

	return acpi.pm_tmr_32bit ? v : v & 0xffffff;
}

uint64_t tsc_hz_from_pm_timer(void)
{
	uint32_t mask = acpi.pm_tmr_32bit ? 0xffffffffu : 0xffffff;
	uint32_t want = (uint32_t)((uint64_t)PM_TIMER_HZ * CALIBRATE_US / 1000000);
	uint32_t start, elapsed;
	uint64_t t0;

	if (!acpi.pm_tmr)
		return 0;
	start = pm_timer_read();
	t0 = rdtsc();
	do {
		elapsed = (pm_timer_read() - start) & mask;
	} while (elapsed < want);
	return (rdtsc() - t0) * PM_TIMER_HZ / elapsed;
}

/* Mode 0 drives OUT2 low when the count is loaded and high at terminal
 * count; an OUT2 that is already high right after loading means there
 * is no PIT (or no port 0x61) to count with. */
uint64_t tsc_hz_from_pit(void)
{
	uint32_t latch = (uint32_t)((uint64_t)PIT_HZ * CALIBRATE_US / 1000000);
	uint64_t t0;
	unsigned spins = 0;

	outb(PORT_SPEAKER, (inb(PORT_SPEAKER) & ~0x02) | 0x01);
	outb(PORT_PIT_CMD, 0xb0);  /* channel 2, lo/hi byte, mode 0, binary */
	outb(PORT_PIT_CH2, (uint8_t)latch);
	outb(PORT_PIT_CH2, (uint8_t)(latch >> 8));
	t0 = rdtsc();
	if (inb(PORT_SPEAKER) & 0x20)
		return 0;
	while (!(inb(PORT_SPEAKER) & 0x20))
		if (++spins > 1000000)
			return 0;
	return (rdtsc() - t0) * PIT_HZ / latch;
}
