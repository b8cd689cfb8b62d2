/*
 * Guest RAM filled on demand through userfaultfd.
 *
 * The memfd is registered for missing-page faults before the guest (or any
 * monitor thread) touches it.  A fault — from a vCPU inside KVM, from a
 * device thread or from the kernel's io_uring workers — blocks the faulting
 * thread until a page is placed; the pager thread hands each fault to the
 * owner's `fault` callback and, between faults, calls `background` to
 * place the rest.  Used by lazy restore (pages from the save file, checked
 * against their chunk CRC before the guest can see them: ram_restore.c)
 * and by post-copy migration (pages requested from the source).
 */
#ifndef XENON_RAM_PAGER_H
#define XENON_RAM_PAGER_H

#include <stdbool.h>
#include <stdint.h>

struct guest_memory;
struct ram_pager;

struct ram_pager_ops {
	/* A missing page at RAM offset `offset` was touched.  0: placed (or
	 * there already); 1: it will be placed later by another thread
	 * (placing wakes the faulting thread); -1 ends paging with an error. */
	int (*fault)(struct ram_pager *pg, void *opaque, uint64_t offset);
	/* One unit of work when no fault is waiting: 1 = more to do,
	 * 0 = nothing now (the pager then sleeps until a fault or
	 * ram_pager_finish()), -1 = error. */
	int (*background)(struct ram_pager *pg, void *opaque);
	/* Paging failed (err says why): the guest must not run on. */
	void (*failed)(void *opaque, const char *err);
};

/* Register mem's RAM and start the pager thread. */
int ram_pager_start(struct ram_pager **out, struct guest_memory *mem,
		    const struct ram_pager_ops *ops, void *opaque);
/* True if this host lets the monitor use userfaultfd. */
bool ram_pager_available(void);

/* Place [offset, offset + len) (page-aligned) from data, or zeros when
 * data is NULL.  Pages already there are left alone.  Any thread. */
int ram_pager_place(struct ram_pager *pg, uint64_t offset, const void *data,
		    uint64_t len);
/* Every page that can hold data is placed: unregister, so the remaining
 * (zero) pages fault in as ordinary memory, and let the thread end. */
void ram_pager_finish(struct ram_pager *pg);
/* Wait until paging ended; 0 if it finished, -1 if it failed. */
int ram_pager_wait(struct ram_pager *pg);
/* Stop (if running), join and free. */
void ram_pager_destroy(struct ram_pager *pg);

/* Statistics for logs and benchmarks. */
struct ram_pager_stats {
	uint64_t faults, placed_bytes;
	uint64_t first_fault_ns, done_ns;   /* monotonic; 0 = not yet */
};
void ram_pager_stats(const struct ram_pager *pg, struct ram_pager_stats *st);

#endif
