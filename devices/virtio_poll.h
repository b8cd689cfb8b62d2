/*
 * Polling a virtqueue after a kick, as QEMU's iothreads do (poll-max-ns):
 * once the device has drained the queue it keeps watching the ring, with
 * the driver's kicks turned off, so a driver that adds buffers again at
 * once (deep queues, a polling driver, a stream of frames) pays no VM exit
 * for each; on this nested host an exit costs ~8 us.  The window adapts
 * per queue: it grows while polling finds buffers and shrinks while it
 * does not, so a guest that kicks now and then costs a few microseconds a
 * kick.  One kick polls for at most VIRTIO_POLL_BUDGET_NS, since the main
 * loop has other work; the device lock is dropped between looks.
 */
#ifndef XENON_VIRTIO_POLL_H
#define XENON_VIRTIO_POLL_H

#include <stdbool.h>
#include <stdint.h>

struct virtio_dev;

#define VIRTIO_POLL_MAX_NS    64000u
#define VIRTIO_POLL_START_NS  4000u
#define VIRTIO_POLL_BUDGET_NS 1000000u

struct virtio_poll_ops {
	/* Buffers are waiting: take them (device lock held). */
	void (*run)(void *opaque);
	/* Nothing waiting this look: e.g. reap completions (may be NULL). */
	void (*idle)(void *opaque);
	/* Stop polling now (device going away, queue cannot take more). */
	bool (*stop)(void *opaque);
};

struct virtio_poll {
	uint32_t window_ns;	/* the next kick's first window (adaptive) */
};

/* Called from the device's queue_notify, with the device lock held, after
 * it has drained queue q.  Returns with kicks on and the lock held. */
void virtio_poll_queue(struct virtio_dev *vdev, unsigned q,
		       struct virtio_poll *p, const struct virtio_poll_ops *ops,
		       void *opaque);

#endif
