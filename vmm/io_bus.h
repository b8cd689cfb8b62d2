/*
 * Port-I/O and MMIO dispatch: devices register address ranges; vCPU threads
 * look the address up on every KVM_EXIT_IO / KVM_EXIT_MMIO.  Lookups take a
 * read lock; registration (including PCI BAR moves at run time) a write lock.
 * Handlers run on vCPU threads and must do their own locking.
 */
#ifndef XENON_IO_BUS_H
#define XENON_IO_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* offset is relative to the registered base; len is 1, 2, 4 or 8. */
typedef void (*io_handler_fn)(void *opaque, uint64_t offset, uint8_t *data,
			      uint32_t len, bool is_write);

struct io_range {
	uint64_t base, len;
	io_handler_fn handler;
	void *opaque;
};

struct io_bus {
	pthread_rwlock_t lock;
	struct io_range *ranges; /* sorted by base, non-overlapping */
	unsigned count, cap;
	const char *name;
};

void io_bus_init(struct io_bus *bus, const char *name);
void io_bus_destroy(struct io_bus *bus);
/* -1 (errno EEXIST) if it overlaps an existing range. */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    io_handler_fn handler, void *opaque);
/* Remove the range starting exactly at base; -1 if none. */
int io_bus_unregister(struct io_bus *bus, uint64_t base);
/* true if a device handled it; reads of unclaimed addresses return all ones. */
bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data,
		   uint32_t len, bool is_write);

#endif
