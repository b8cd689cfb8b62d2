/* Host CPU lists (xl.cfg(5) cpus=): "all", "0-3,5,^1", "all,^7". */
#include "lib/domain_config.h"
#include "lib/xl_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool cpumap_test(const struct cpumap *m, unsigned cpu)
{
	return cpu < DOMAIN_MAX_HOST_CPUS &&
	       (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

void cpumap_set(struct cpumap *m, unsigned cpu)
{
	if (cpu < DOMAIN_MAX_HOST_CPUS)
		m->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

static void cpumap_clear(struct cpumap *m, unsigned cpu)
{
	if (cpu < DOMAIN_MAX_HOST_CPUS)
		m->bits[cpu / 64] &= ~(1ULL << (cpu % 64));
}

static bool cpumap_empty(const struct cpumap *m)
{
	for (size_t i = 0; i < DOMAIN_MAX_HOST_CPUS / 64; i++)
		if (m->bits[i])
			return false;
	return true;
}

static int cpu_number(const char **p, unsigned *cpu, const char **why)
{
	unsigned long v = 0;

	if (!isdigit((unsigned char)**p)) {
		*why = "expected a CPU number, a range like 2-5, or 'all'";
		return -1;
	}
	while (isdigit((unsigned char)**p)) {
		v = v * 10 + (unsigned long)(**p - '0');
		if (v >= DOMAIN_MAX_HOST_CPUS) {
			*why = "CPU number too large (Xenon handles CPUs 0 to 1023)";
			return -1;
		}
		(*p)++;
	}
	*cpu = (unsigned)v;
	return 0;
}

/* One comma-separated item: [^](all | N | N-M). */
static int cpulist_item(const char **p, struct cpumap *m, const char **why)
{
	bool remove = **p == '^';
	unsigned lo, hi;

	if (remove)
		(*p)++;
	if (strncmp(*p, "node", 4) == 0) {
		*why = "NUMA node affinity (node:/nodes:) is not supported by "
		       "Xenon yet";
		return -1;
	}
	if (strncmp(*p, "all", 3) == 0) {
		*p += 3;
		lo = 0;
		hi = DOMAIN_MAX_HOST_CPUS - 1;
	} else {
		if (cpu_number(p, &lo, why) < 0)
			return -1;
		hi = lo;
		if (**p == '-') {
			(*p)++;
			if (cpu_number(p, &hi, why) < 0)
				return -1;
			if (hi < lo) {
				*why = "a range must go upwards (like 2-5)";
				return -1;
			}
		}
	}
	for (unsigned c = lo; c <= hi; c++) {
		if (remove)
			cpumap_clear(m, c);
		else
			cpumap_set(m, c);
	}
	return 0;
}

int xl_cpulist_parse(const char *s, struct cpumap *m, const char **why)
{
	const char *p = s;

	memset(m, 0, sizeof(*m));
	for (;;) {
		while (*p == ' ')
			p++;
		if (cpulist_item(&p, m, why) < 0)
			return -1;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p != ',') {
			*why = "expected ',' between items";
			return -1;
		}
		p++;
	}
	if (cpumap_empty(m)) {
		*why = "it selects no CPU at all";
		return -1;
	}
	return 0;
}

char *cpumap_format(const struct cpumap *m)
{
	/* Worst case "0,2,4,...": 1024 numbers of up to 4 digits + commas. */
	char *out = xl_xmalloc(DOMAIN_MAX_HOST_CPUS * 5 + 1), *o = out;
	unsigned c = 0;

	*o = '\0';
	while (c < DOMAIN_MAX_HOST_CPUS) {
		unsigned lo;

		if (!cpumap_test(m, c)) {
			c++;
			continue;
		}
		lo = c;
		while (c + 1 < DOMAIN_MAX_HOST_CPUS && cpumap_test(m, c + 1))
			c++;
		o += sprintf(o, o == out ? "%u" : ",%u", lo);
		if (c > lo)
			o += sprintf(o, "-%u", c);
		c++;
	}
	return out;
}
