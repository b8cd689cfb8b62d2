/* The device-state registry (see vmstate.h).  One domain per process:
 * a static table, used from the main thread only. */
#include "lib/vmstate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

#define VMSTATE_MAX 128

static struct vmstate_entry entries[VMSTATE_MAX];
static unsigned nr_entries;
static uint64_t downtime_ns;

int vmstate_register(const struct vmstate_ops *ops, void *opaque,
		     const char *fmt, ...)
{
	struct vmstate_entry *e;
	va_list ap;

	if (nr_entries == VMSTATE_MAX) {
		log_error("device state: too many devices");
		return -1;
	}
	e = &entries[nr_entries];
	va_start(ap, fmt);
	vsnprintf(e->name, sizeof(e->name), fmt, ap);
	va_end(ap);
	if (vmstate_find(e->name)) {
		log_error("device state: two devices named '%s'", e->name);
		return -1;
	}
	e->ops = ops;
	e->opaque = opaque;
	nr_entries++;
	return 0;
}

void vmstate_unregister(void *opaque)
{
	for (unsigned i = 0; i < nr_entries; i++) {
		if (entries[i].opaque != opaque)
			continue;
		memmove(&entries[i], &entries[i + 1],
			(nr_entries - i - 1) * sizeof(entries[0]));
		nr_entries--;
		return;
	}
}

unsigned vmstate_count(void)
{
	return nr_entries;
}

const struct vmstate_entry *vmstate_get(unsigned i)
{
	return i < nr_entries ? &entries[i] : NULL;
}

const struct vmstate_entry *vmstate_find(const char *name)
{
	for (unsigned i = 0; i < nr_entries; i++)
		if (!strcmp(entries[i].name, name))
			return &entries[i];
	return NULL;
}

void vmstate_quiesce_all(void)
{
	for (unsigned i = 0; i < nr_entries; i++)
		if (entries[i].ops->quiesce)
			entries[i].ops->quiesce(entries[i].opaque);
}

void vmstate_post_load_all(void)
{
	for (unsigned i = 0; i < nr_entries; i++)
		if (entries[i].ops->post_load)
			entries[i].ops->post_load(entries[i].opaque);
}

void vmstate_announce_all(void)
{
	for (unsigned i = 0; i < nr_entries; i++)
		if (entries[i].ops->announce)
			entries[i].ops->announce(entries[i].opaque);
}

void vmstate_set_downtime_ns(uint64_t ns)
{
	downtime_ns = ns;
}

uint64_t vmstate_downtime_ns(void)
{
	return downtime_ns;
}
