/* Scenarios about what the loader handed over: boot, cmdline, initrd. */
#include <stdint.h>

#include "guest/acpi.h"
#include "guest/bootinfo.h"
#include "guest/crc32.h"
#include "guest/scenario.h"
#include "guest/user.h"

/* CPUs the firmware describes; 1 without a MADT. */
static unsigned madt_cpus(void)
{
	return acpi.nr_cpus ? acpi.nr_cpus : 1;
}

/* Read and write back the first and last byte of every RAM range: the
 * identity map must cover all of it (a hole would fault and be reported
 * by the exception handler). */
static void touch_ram(void)
{
	for (unsigned i = 0; i < boot.nr_memmap; i++) {
		const struct memmap_entry *e = &boot.memmap[i];
		volatile uint8_t *first = (volatile uint8_t *)e->addr;
		volatile uint8_t *last = first + e->size - 1;

		if (e->type != MEMMAP_RAM || !e->size)
			continue;
		*first = *first;
		*last = *last;
	}
}

void scn_boot(void)
{
	touch_ram();
	printk("xenon-guest: started cpus=%u mem=%lu\n", madt_cpus(),
	       (unsigned long)(ram_bytes() >> 20));
	result(true, "");
}

void scn_cmdline(void)
{
	printk("xenon-guest: cmdline=%s\n", boot.cmdline);
	result(true, "len=%zu", boot.cmdline_len);
}

/* In ring 3, where it runs natively: see user.h. */
static uint64_t module_crc(void *arg)
{
	const struct boot_module *m = arg;

	return crc32(0, (const void *)m->paddr, (size_t)m->size);
}

void scn_initrd(void)
{
	const struct boot_module *m = &boot.modules[0];

	if (!boot.nr_modules) {
		result(false, "modules=0 reason=no-module");
		return;
	}
	result(true, "modules=%u size=%lu crc32=%08x", boot.nr_modules,
	       (unsigned long)m->size,
	       (uint32_t)user_call(module_crc, (void *)m));
}
