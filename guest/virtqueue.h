/*
 * Split virtqueues (virtio 1.x, section 2.7), driver side.  Buffers are
 * added as chains of device-readable then device-writable segments with a
 * caller token; completed chains come back through virtq_get().
 */
#ifndef GUEST_VIRTQUEUE_H
#define GUEST_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vring_avail {
	uint16_t flags, idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id, len;
};

struct vring_used {
	uint16_t flags, idx;
	struct vring_used_elem ring[];
};

#define VRING_DESC_F_NEXT  1
#define VRING_DESC_F_WRITE 2
#define VIRTQ_MAX_SIZE     256

struct virtq {
	uint16_t index, size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t free_head, num_free, last_used;
	uint64_t notify_addr;  /* set by the transport */
	void **tokens;         /* per chain head, allocated with the rings */
};

/* One buffer of a chain. */
struct virtq_buf {
	void *addr;
	uint32_t len;
};

/* Allocate rings for `size` entries (a power of two <= VIRTQ_MAX_SIZE). */
bool virtq_alloc(struct virtq *vq, uint16_t index, uint16_t size);
/* Queue out device-readable then in device-writable buffers as one chain;
 * false if there are not enough free descriptors. Call virtq_kick() to
 * let the device see it. */
bool virtq_add(struct virtq *vq, const struct virtq_buf *bufs,
	       unsigned out, unsigned in, void *token);
/* Notify the device of new buffers. */
void virtq_kick(struct virtq *vq);
/* Kick unless the device said it does not need one (VIRTQ_USED_F_NO_NOTIFY:
 * it is polling the ring; without EVENT_IDX).  Returns whether it kicked. */
bool virtq_kick_if_needed(struct virtq *vq);
/* True if the device has returned a chain not yet collected. */
bool virtq_has_used(const struct virtq *vq);
/* Collect one completed chain: its token and bytes written; NULL if none. */
void *virtq_get(struct virtq *vq, uint32_t *len);
/* With VIRTIO_F_EVENT_IDX: ask for an interrupt once n more chains have
 * been used (n >= 1); n == 0 asks for none (until the index wraps). */
void virtq_set_used_event(struct virtq *vq, uint16_t n);
/* Chains used and not yet collected. */
uint16_t virtq_pending(const struct virtq *vq);

#endif
