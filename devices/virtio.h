/*
 * The interface between a virtio device (console, and later blk, net,
 * balloon, a xenstore channel: one file each) and its transport
 * (virtio_pci.c).
 *
 * A device fills a struct virtio_device_ops and calls
 * virtio_pci_create(vm, bus, &ops, priv).  The transport does feature
 * negotiation, the status state machine, reset, queue set-up, interrupts
 * (MSI-X through irqfd, or INTx + ISR) and notifications (one ioeventfd
 * per queue, drained by the main loop).  The device only sees:
 *
 *   - ops callbacks, every one called with the device lock held;
 *   - the queue helpers below, to be called with the lock held.  Work the
 *     device starts itself (host input, a worker thread) takes the lock
 *     with virtio_lock()/virtio_unlock().
 *
 * A guest that breaks the rules (bad descriptor chain, rings outside RAM)
 * gets the device marked DEVICE_NEEDS_RESET with a config interrupt; one
 * clear error is logged and the monitor carries on.  The device's queues
 * are dead until the driver resets it.
 */
#ifndef XENON_VIRTIO_H
#define XENON_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtqueue.h"

struct vm;
struct sbuf;
struct sreader;

/* Device types (virtio 1.2 section 5); PCI device ID is 0x1040 + type. */
#define VIRTIO_ID_NET      1
#define VIRTIO_ID_BLOCK    2
#define VIRTIO_ID_CONSOLE  3
#define VIRTIO_ID_BALLOON  5

/* Transport feature bits the transport itself offers. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE  0x01
#define VIRTIO_STATUS_DRIVER       0x02
#define VIRTIO_STATUS_DRIVER_OK    0x04
#define VIRTIO_STATUS_FEATURES_OK  0x08
#define VIRTIO_STATUS_NEEDS_RESET  0x40
#define VIRTIO_STATUS_FAILED       0x80

#define VIRTIO_MSI_NO_VECTOR 0xffff

struct virtio_dev {
	const struct virtio_device_ops *ops;
	void *priv;               /* the device's own state */
	struct vm *vm;
};

struct virtio_device_ops {
	const char *name;         /* "virtio-console", for messages */
	uint16_t type;            /* VIRTIO_ID_* */
	uint32_t pci_class;       /* class code, e.g. 0x078000 */
	unsigned num_queues;
	uint16_t queue_max_size;  /* power of two; the driver may pick less */
	uint32_t config_size;     /* bytes of device config space */

	/* Device feature bits (the transport adds VERSION_1, INDIRECT_DESC
	 * and EVENT_IDX). */
	uint64_t (*get_features)(struct virtio_dev *vdev);
	/* Device config space; off + len <= config_size is checked. */
	void (*get_config)(struct virtio_dev *vdev, uint32_t off, void *buf,
			   uint32_t len);
	void (*set_config)(struct virtio_dev *vdev, uint32_t off,
			   const void *buf, uint32_t len);
	/* The driver kicked queue q (main loop thread, never a vCPU).  Only
	 * called for enabled queues of a live device. */
	void (*queue_notify)(struct virtio_dev *vdev, unsigned q);
	/* Status changed (vCPU thread: keep it short; queue work belongs in
	 * queue_notify, which the transport calls for every queue once the
	 * driver sets DRIVER_OK). */
	void (*status_changed)(struct virtio_dev *vdev, uint8_t old,
			       uint8_t status);
	/* The driver reset the device (status 0): drop in-flight state. */
	void (*reset)(struct virtio_dev *vdev);

	/*
	 * Save/restore and migration (docs/save-format.md), all optional.
	 * The transport saves the queues (addresses, indices, vectors) and
	 * PCI state itself; a device only adds what it keeps on its own.
	 *
	 * quiesce: complete every request already popped (push it, with
	 * its data written) and start no new one; called WITHOUT the device
	 * lock, on the main thread, vCPUs paused.  A device that pops and
	 * completes within queue_notify needs none.
	 * save/load: the device's own fields (state_buf.h); load reports bad
	 * input with sr_fail() and must read everything before applying.
	 * announce: after an incoming migration resumed the guest, tell the
	 * network where it is now (a network device sends a gratuitous
	 * ARP/RARP per MAC).
	 */
	uint32_t state_version;
	void (*quiesce)(struct virtio_dev *vdev);
	void (*save)(struct virtio_dev *vdev, struct sbuf *out);
	void (*load)(struct virtio_dev *vdev, struct sreader *in,
		     uint32_t version);
	void (*announce)(struct virtio_dev *vdev);
};

void virtio_lock(struct virtio_dev *vdev);
void virtio_unlock(struct virtio_dev *vdev);

/* Negotiated feature bit (as acked by the driver). */
bool virtio_has_feature(struct virtio_dev *vdev, unsigned bit);
/* Queue q is enabled, the driver is up (DRIVER_OK) and nothing broke. */
bool virtio_queue_ready(struct virtio_dev *vdev, unsigned q);

/*
 * Pop the next chain of queue q into e (e->iov/e->max_iov set by the
 * caller): 1 if there was one, 0 if none or the queue is not ready.  A
 * malformed chain marks the device broken and returns 0.
 */
int virtio_queue_pop(struct virtio_dev *vdev, unsigned q, struct virtq_elem *e);
/* Loading saved state (vp->lock held): give the last chain popped and
 * not pushed back to queue q, to be popped again; false if none. */
bool virtio_queue_unpop(struct virtio_dev *vdev, unsigned q);
/* Return a chain with `written` bytes written into its writable part. */
void virtio_queue_push(struct virtio_dev *vdev, unsigned q,
		       const struct virtq_elem *e, uint32_t written);
/* Several chains made visible together: fill each (offset 0, 1, ...),
 * then flush their number. */
void virtio_queue_fill(struct virtio_dev *vdev, unsigned q,
		       const struct virtq_elem *e, uint32_t written,
		       unsigned offset);
void virtio_queue_flush(struct virtio_dev *vdev, unsigned q, unsigned count);
/* After pushes: interrupt the driver if it wants one. */
void virtio_queue_signal(struct virtio_dev *vdev, unsigned q);
/* Buffers available on queue q that were not popped yet. */
bool virtio_queue_has_buffers(struct virtio_dev *vdev, unsigned q);
/* Kicks wanted (on) or not (off, while the device polls the ring). */
void virtio_queue_set_notify(struct virtio_dev *vdev, unsigned q, bool on);
/* The size the driver gave queue q (0 if it is not ready). */
unsigned virtio_queue_size(struct virtio_dev *vdev, unsigned q);

/* Device config changed: bump config_generation, config interrupt. */
void virtio_config_changed(struct virtio_dev *vdev);
/* The guest broke the device: log once, set NEEDS_RESET, interrupt. */
void virtio_device_broken(struct virtio_dev *vdev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
