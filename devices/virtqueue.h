/*
 * Split virtqueues (virtio 1.2 section 2.7), device side.
 *
 * The rings live in guest RAM and the guest may rewrite them at any moment,
 * so everything read from them is fetched once, checked, and only then used:
 * ring addresses and buffer addresses go through gpa_to_hva() with their
 * full length, chains are bounded by the queue size (no loops), indirect
 * tables are checked and may not nest, device-writable buffers must follow
 * the device-readable ones, and the avail index may not run more than a
 * queue's worth ahead.  A broken chain makes virtqueue_pop() fail with a
 * message in vq->error; the queue stays broken until it is set up again.
 */
#ifndef XENON_VIRTQUEUE_H
#define XENON_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/guest_memory.h"

#define VIRTQ_MAX_SIZE 32768

/* Descriptor flags. */
#define VIRTQ_DESC_F_NEXT      1
#define VIRTQ_DESC_F_WRITE     2
#define VIRTQ_DESC_F_INDIRECT  4

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* then used_event */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* then avail_event */
};

/* Bytes each ring part occupies for a queue of `size` entries. */
#define VIRTQ_DESC_BYTES(size)  (16ULL * (size))
#define VIRTQ_AVAIL_BYTES(size) (6ULL + 2ULL * (size))
#define VIRTQ_USED_BYTES(size)  (6ULL + 8ULL * (size))

struct virtqueue {
	const struct guest_memory *mem;
	uint16_t size;
	bool indirect;             /* VIRTIO_F_INDIRECT_DESC negotiated */
	bool event_idx;            /* VIRTIO_F_EVENT_IDX negotiated */
	uint32_t max_chain_bytes;  /* per chain, both directions together */

	struct virtq_desc *desc;   /* host pointers, validated at setup */
	struct virtq_avail *avail;
	struct virtq_used *used;

	uint16_t last_avail;       /* next avail entry to consume */
	uint16_t used_idx;         /* our copy of used->idx */
	uint16_t signalled_used;   /* used_idx at the last interrupt (EVENT_IDX) */
	bool signalled_valid;

	bool notify_off;           /* polling: the driver need not kick */

	bool broken;
	char error[128];
};

/*
 * One popped chain.  The caller supplies iov[max_iov]; device-readable
 * segments come first (out_num of them, out_bytes in total), then the
 * device-writable ones (in_num, in_bytes).  max_iov >= the queue size is
 * always enough for a valid chain.  Zero-length descriptors are skipped.
 */
struct virtq_elem {
	uint16_t head;
	unsigned out_num, in_num;
	uint32_t out_bytes, in_bytes;
	struct iovec *iov;
	unsigned max_iov;
};

/*
 * Check the ring addresses (alignment, inside guest RAM, for `size`
 * entries, a power of two up to VIRTQ_MAX_SIZE) and reset the indices.
 * Returns 0, or -1 with the reason in vq->error.
 */
int virtqueue_setup(struct virtqueue *vq, const struct guest_memory *mem,
		    uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
		    bool indirect, bool event_idx);
void virtqueue_clear(struct virtqueue *vq);

/* 1: a chain was popped into e; 0: no buffers; -1: the guest broke the
 * queue (vq->error says how; further pops fail too). */
int virtqueue_pop(struct virtqueue *vq, struct virtq_elem *e);
/* Hand back the chain starting at head with `written` bytes written. */
void virtqueue_push(struct virtqueue *vq, uint16_t head, uint32_t written);
/* The same in two steps, so several chains become visible to the driver
 * at once (a mergeable receive frame spanning them): fill the entry
 * `offset` places past the last published one, then publish `count`. */
void virtqueue_fill(struct virtqueue *vq, unsigned offset, uint16_t head,
		    uint32_t written);
void virtqueue_flush(struct virtqueue *vq, unsigned count);
/* After pushes: does the driver want an interrupt now? */
bool virtqueue_should_notify(struct virtqueue *vq);
/* Anything the driver has made available that we did not pop yet? */
bool virtqueue_has_buffers(struct virtqueue *vq);
/* Tell the driver whether to kick for new buffers (virtio 1.2, 2.7.10):
 * off while the device polls the ring anyway, on again before it stops;
 * after turning it on, look at the ring once more (a buffer added while
 * it was off brought no kick). */
void virtqueue_set_notify(struct virtqueue *vq, bool on);

/* Copy between a chain's segments and a flat buffer; return bytes copied. */
size_t virtq_iov_to_buf(const struct iovec *iov, unsigned n, void *buf,
			size_t len);
size_t virtq_buf_to_iov(const struct iovec *iov, unsigned n, const void *buf,
			size_t len);

#endif
