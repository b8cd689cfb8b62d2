#include "vmm/io_bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void io_bus_init(struct io_bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	pthread_rwlock_init(&bus->lock, NULL);
	bus->name = name;
}

void io_bus_destroy(struct io_bus *bus)
{
	free(bus->ranges);
	pthread_rwlock_destroy(&bus->lock);
	memset(bus, 0, sizeof(*bus));
}

/* Index of the first range whose end is above addr (binary search). */
static unsigned find_slot(const struct io_bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->count;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct io_range *r = &bus->ranges[mid];

		if (r->base + r->len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    io_handler_fn handler, void *opaque)
{
	unsigned i;
	int ret = -1;

	if (len == 0 || base + len < base) {
		errno = EINVAL;
		return -1;
	}
	pthread_rwlock_wrlock(&bus->lock);
	i = find_slot(bus, base);
	if (i < bus->count && bus->ranges[i].base < base + len) {
		errno = EEXIST;
		goto out;
	}
	if (bus->count == bus->cap) {
		unsigned cap = bus->cap ? bus->cap * 2 : 16;
		struct io_range *n = realloc(bus->ranges, cap * sizeof(*n));

		if (!n)
			goto out;
		bus->ranges = n;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i],
		(bus->count - i) * sizeof(*bus->ranges));
	bus->ranges[i] = (struct io_range){ base, len, handler, opaque };
	bus->count++;
	ret = 0;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int io_bus_unregister(struct io_bus *bus, uint64_t base)
{
	unsigned i;
	int ret = -1;

	pthread_rwlock_wrlock(&bus->lock);
	i = find_slot(bus, base);
	if (i < bus->count && bus->ranges[i].base == base) {
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->count - i - 1) * sizeof(*bus->ranges));
		bus->count--;
		ret = 0;
	} else {
		errno = ENOENT;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data,
		   uint32_t len, bool is_write)
{
	struct io_range r;
	unsigned i;
	bool found = false;

	pthread_rwlock_rdlock(&bus->lock);
	i = find_slot(bus, addr);
	if (i < bus->count && bus->ranges[i].base <= addr) {
		r = bus->ranges[i];
		found = true;
	}
	pthread_rwlock_unlock(&bus->lock);

	if (!found) {
		if (!is_write)
			memset(data, 0xff, len);
		return false;
	}
	/* The handler runs unlocked so it may itself move BARs (re-register). */
	r.handler(r.opaque, addr - r.base, data, len, is_write);
	return true;
}
