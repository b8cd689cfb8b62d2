/*
 * virtio-blk driver (virtio 1.2 section 5.2), polled: queues have no
 * interrupt vector and completions are found by looking at the used
 * rings.  Everything after vblk_open() is plain memory traffic plus the
 * notify store, so it also runs in ring 3 (user_call), where the nested
 * KVM layer here runs code natively: the batch engine is meant for that.
 */
#ifndef GUEST_VIRTIO_BLK_H
#define GUEST_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/virtio_pci.h"

#define VBLK_MAX_QUEUES 8
#define VBLK_QUEUE_SIZE 128

#define VBLK_T_IN           0
#define VBLK_T_OUT          1
#define VBLK_T_FLUSH        4
#define VBLK_T_GET_ID       8
#define VBLK_T_DISCARD     11
#define VBLK_T_WRITE_ZEROES 13

#define VBLK_S_OK     0
#define VBLK_S_IOERR  1
#define VBLK_S_UNSUPP 2
#define VBLK_S_NONE   0xff  /* no answer (timeout) */

#define VBLK_F_SIZE_MAX     (1ULL << 1)
#define VBLK_F_SEG_MAX      (1ULL << 2)
#define VBLK_F_RO           (1ULL << 5)
#define VBLK_F_BLK_SIZE     (1ULL << 6)
#define VBLK_F_FLUSH        (1ULL << 9)
#define VBLK_F_MQ           (1ULL << 12)
#define VBLK_F_DISCARD      (1ULL << 13)
#define VBLK_F_WRITE_ZEROES (1ULL << 14)
#define VBLK_F_EVENT_IDX    (1ULL << 29)

#define SECTOR_SIZE 512u

struct vblk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

/* Per descriptor-chain head: the request's header and status live here
 * (device-visible memory), indexed by the chain's head descriptor. */
struct vblk_slot {
	struct vblk_hdr hdr;
	volatile uint8_t status;
	uint8_t pad[15];
};

struct vblk {
	struct virtio_dev vd;
	struct virtq q[VBLK_MAX_QUEUES];
	struct vblk_slot *slots[VBLK_MAX_QUEUES];
	unsigned nq;
	uint64_t capacity;           /* sectors */
	uint32_t seg_max, size_max;
	uint16_t dev_queues;         /* num_queues the device offers */
	char id[21];                 /* GET_ID, NUL-terminated */
	bool irq;                    /* queues interrupt (with EVENT_IDX) */
};

/* Find the index-th virtio-blk device and bring it up with up to
 * max_queues queues.  False if absent or if it refuses. */
bool vblk_open(unsigned index, struct vblk *b, unsigned max_queues);
/* The same with an interrupt vector per queue and EVENT_IDX, for batches
 * that wait halted (vblk_batch_wait); interrupts stay suppressed except
 * while such a wait asks for them. */
bool vblk_open_irq(unsigned index, struct vblk *b, unsigned max_queues);
/* Feature negotiated? (VBLK_F_*) */
bool vblk_has(const struct vblk *b, uint64_t feature);

/* One request on queue q, waited for (bounded by timeout_us): returns
 * the status byte, or VBLK_S_NONE on timeout.  data may be NULL with len
 * 0 (FLUSH); for IN and GET_ID it is device-writable. */
uint8_t vblk_request(struct vblk *b, unsigned q, uint32_t type,
		     uint64_t sector, void *data, uint32_t len,
		     uint64_t timeout_us);

/*
 * Many reads or writes, `depth` in flight per queue over `queues` queues,
 * kicked once per round.  With per_sector, request data lives at
 * buf + (sector - first) * 512 (a pattern spread over a range); without,
 * every request uses buf (throughput runs).  Request i covers
 * req_sectors sectors at first + i * req_sectors (wrapping inside span),
 * or at a random multiple of req_sectors inside span.
 */
struct vblk_batch {
	struct vblk *b;
	uint32_t type;               /* VBLK_T_IN or VBLK_T_OUT */
	uint64_t first, span;        /* sectors */
	uint32_t req_sectors;
	uint64_t count;              /* requests */
	bool random, per_sector;
	uint64_t rng;                /* xorshift state, non-zero */
	uint8_t *buf;
	unsigned depth, queues;
	uint64_t deadline_tsc;
	bool wait_irq;               /* vblk_batch_wait: halt, do not spin */
	/* engine state, kept across VBLK_BATCH_WAIT returns */
	bool waiting;
	unsigned inflight[VBLK_MAX_QUEUES];
	uint64_t issued;
	/* results */
	uint64_t done, kicks, errors, waits;
	uint8_t first_error;         /* status of the first failed request */
	bool timed_out;
};

/* Runs the batch; ring-3 safe (pass to user_call).  Returns 0 when every
 * request completed with VBLK_S_OK; with wait_irq, VBLK_BATCH_WAIT when
 * it has nothing to do until the device completes something. */
#define VBLK_BATCH_WAIT 2
uint64_t vblk_batch_run(void *batch);
/* Ring 0, device opened with vblk_open_irq: runs the batch in ring 3 and
 * halts whenever it waits, woken once half of the requests in flight on
 * a queue are done (a polled batch keeps a vCPU busy spinning, which on
 * a host with few CPUs takes the time the device needs to copy). */
uint64_t vblk_batch_wait(struct vblk_batch *batch);

#endif
