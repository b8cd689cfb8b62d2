/*
 * The device-state registry: every device that has guest-visible state
 * registers a name and a small set of callbacks when it is created, and
 * save, restore and migration walk the list (docs/save-format.md).
 *
 * Adding save/restore to a device is one registration plus a save and a
 * load function that write and read its fields with state_buf.h.  Virtio
 * devices do not register themselves: the transport does, and calls the
 * optional save/load/quiesce/announce members of virtio_device_ops.
 *
 * Order: sections are written in registration (creation) order; on load
 * they are matched by name, and a stream that lacks a registered device,
 * or has one this domain does not, is refused.
 */
#ifndef XENON_VMSTATE_H
#define XENON_VMSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/state_buf.h"

struct vmstate_ops {
	uint32_t version;        /* of the saved layout; load sees the stream's */
	/* Optional: finish in-flight I/O so that every request the guest
	 * made is complete (pushed to the used ring) before the state is
	 * read.  Main thread, vCPUs paused, main loop not dispatching. */
	void (*quiesce)(void *opaque);
	void (*save)(void *opaque, struct sbuf *out);
	/* Read what save wrote (version <= ops->version); report bad values
	 * with sr_fail().  The device must not act on anything before the
	 * reader is known good: read everything, check sr_ok(), then apply. */
	void (*load)(void *opaque, struct sreader *in, uint32_t version);
	/* Optional: after a successful load, just before the vCPUs run
	 * (re-examine queues, re-drive interrupt lines). */
	void (*post_load)(void *opaque);
	/* Optional: after an incoming migration has resumed the guest: tell
	 * the outside world where the guest is now (gratuitous ARP/RARP). */
	void (*announce)(void *opaque);
};

#define VMSTATE_NAME_MAX 64

struct vmstate_entry {
	char name[VMSTATE_NAME_MAX];
	const struct vmstate_ops *ops;
	void *opaque;
};

/* Register under a unique name (printf-style); -1 if taken or full. */
int vmstate_register(const struct vmstate_ops *ops, void *opaque,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void vmstate_unregister(void *opaque);

unsigned vmstate_count(void);
const struct vmstate_entry *vmstate_get(unsigned i);
const struct vmstate_entry *vmstate_find(const char *name);

void vmstate_quiesce_all(void);
void vmstate_post_load_all(void);
void vmstate_announce_all(void);

/* Wall-clock time the guest was away: set by restore/incoming before
 * devices load, so time-keeping devices (PM timer) can account for it. */
void vmstate_set_downtime_ns(uint64_t ns);
uint64_t vmstate_downtime_ns(void);

#endif
