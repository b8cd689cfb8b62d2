/*
 * virtio-blk driver: polled queues, one slot (header + status) per chain
 * head, a synchronous request helper and a batch engine for ring 3.
 * See virtio_blk.h.
 */
#include "guest/virtio_blk.h"

#include "guest/memory.h"
#include "guest/string.h"
#include "guest/timer.h"
#include "guest/user.h"
#include "guest/x86.h"

/* Device configuration offsets (struct virtio_blk_config). */
enum { CFG_CAPACITY = 0, CFG_SIZE_MAX = 8, CFG_SEG_MAX = 12,
       CFG_NUM_QUEUES = 34 };

#define WANTED (VBLK_F_SIZE_MAX | VBLK_F_SEG_MAX | VBLK_F_RO | \
		VBLK_F_BLK_SIZE | VBLK_F_FLUSH | VBLK_F_MQ | \
		VBLK_F_DISCARD | VBLK_F_WRITE_ZEROES)

bool vblk_has(const struct vblk *b, uint64_t feature)
{
	return (b->vd.features & feature) == feature;
}

static void irq_seen(void *ctx)
{
	(void)ctx;	/* the waits look at the rings themselves */
}

static bool setup_queues(struct vblk *b, unsigned max_queues)
{
	unsigned want = max_queues ? max_queues : 1;

	b->dev_queues = vblk_has(b, VBLK_F_MQ) ?
			virtio_config_read16(&b->vd, CFG_NUM_QUEUES) : 1;
	b->nq = b->dev_queues < want ? b->dev_queues : want;
	if (b->nq > VBLK_MAX_QUEUES)
		b->nq = VBLK_MAX_QUEUES;
	if (!b->nq)
		return false;
	for (unsigned q = 0; q < b->nq; q++) {
		if (!virtio_queue_init(&b->vd, &b->q[q], (uint16_t)q,
				       VBLK_QUEUE_SIZE, b->irq ? irq_seen : NULL,
				       NULL))
			return false;
		if (b->irq)
			virtq_set_used_event(&b->q[q], 0);
		b->slots[q] = page_alloc(1);  /* 128 slots of 32 bytes */
		if (!b->slots[q])
			return false;
	}
	return true;
}

static bool open_dev(unsigned index, struct vblk *b, unsigned max_queues,
		     bool irq)
{
	char id[24];

	memset(b, 0, sizeof(*b));
	if (!virtio_pci_probe(VIRTIO_ID_BLOCK, index, &b->vd) ||
	    !virtio_negotiate(&b->vd, WANTED | (irq ? VBLK_F_EVENT_IDX : 0)))
		return false;
	b->irq = irq && vblk_has(b, VBLK_F_EVENT_IDX);
	if (!setup_queues(b, max_queues)) {
		virtio_fail(&b->vd);
		return false;
	}
	virtio_driver_ok(&b->vd);
	b->capacity = virtio_config_read32(&b->vd, CFG_CAPACITY) |
		      (uint64_t)virtio_config_read32(&b->vd, CFG_CAPACITY + 4) << 32;
	if (vblk_has(b, VBLK_F_SEG_MAX))
		b->seg_max = virtio_config_read32(&b->vd, CFG_SEG_MAX);
	if (vblk_has(b, VBLK_F_SIZE_MAX))
		b->size_max = virtio_config_read32(&b->vd, CFG_SIZE_MAX);
	memset(id, 0, sizeof(id));
	if (vblk_request(b, 0, VBLK_T_GET_ID, 0, id, 20, 1000000) == VBLK_S_OK)
		memcpy(b->id, id, 20);
	return true;
}

bool vblk_open(unsigned index, struct vblk *b, unsigned max_queues)
{
	return open_dev(index, b, max_queues, false);
}

bool vblk_open_irq(unsigned index, struct vblk *b, unsigned max_queues)
{
	return open_dev(index, b, max_queues, true);
}

/* Queue one request as header [+ data] + status; false if the ring is
 * full.  The slot is picked by the head descriptor the chain will get. */
static bool add_req(struct vblk *b, unsigned q, uint32_t type,
		    uint64_t sector, void *data, uint32_t len, bool data_in)
{
	struct virtq *vq = &b->q[q];
	struct virtq_buf bufs[3];
	struct vblk_slot *s;
	unsigned n = 0, out = 1, in = 1;

	if (vq->num_free < 3)
		return false;
	s = &b->slots[q][vq->free_head];
	s->hdr.type = type;
	s->hdr.reserved = 0;
	s->hdr.sector = sector;
	s->status = VBLK_S_NONE;
	bufs[n++] = (struct virtq_buf){ &s->hdr, sizeof(s->hdr) };
	if (len) {
		bufs[n++] = (struct virtq_buf){ data, len };
		if (data_in)
			in++;
		else
			out++;
	}
	bufs[n++] = (struct virtq_buf){ (void *)&s->status, 1 };
	return virtq_add(vq, bufs, out, in, s);
}

static bool is_device_writable(uint32_t type)
{
	return type == VBLK_T_IN || type == VBLK_T_GET_ID;
}

uint8_t vblk_request(struct vblk *b, unsigned q, uint32_t type,
		     uint64_t sector, void *data, uint32_t len,
		     uint64_t timeout_us)
{
	uint64_t deadline = tsc_after_us(timeout_us);
	struct vblk_slot *s;

	if (!add_req(b, q, type, sector, data, len, is_device_writable(type)))
		return VBLK_S_NONE;
	virtq_kick(&b->q[q]);
	while (!(s = virtq_get(&b->q[q], NULL))) {
		if (rdtsc() > deadline)
			return VBLK_S_NONE;
		cpu_relax();
	}
	return s->status;
}

/* ---- batches (ring 3) --------------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Sector and length of the next request. */
static uint64_t next_sector(struct vblk_batch *j, uint64_t i, uint32_t *sectors)
{
	uint64_t slots = (j->span + j->req_sectors - 1) / j->req_sectors;
	uint64_t sector;

	if (j->random)
		sector = j->first + xorshift(&j->rng) % (j->span / j->req_sectors) *
			 j->req_sectors;
	else
		sector = j->first + i % slots * j->req_sectors;
	*sectors = j->req_sectors;
	if (sector + *sectors > j->first + j->span)
		*sectors = (uint32_t)(j->first + j->span - sector);
	return sector;
}

/* Fill every queue up to depth and kick each one that got requests. */
static void issue(struct vblk_batch *j)
{
	unsigned *inflight = j->inflight;
	uint64_t *issued = &j->issued;

	for (unsigned q = 0; q < j->queues; q++) {
		bool added = false;

		while (*issued < j->count && inflight[q] < j->depth) {
			uint32_t n;
			uint64_t sector = next_sector(j, *issued, &n);
			uint8_t *data = j->per_sector ?
				j->buf + (sector - j->first) * SECTOR_SIZE : j->buf;

			if (!add_req(j->b, q, j->type, sector, data,
				     n * SECTOR_SIZE, j->type == VBLK_T_IN))
				break;
			inflight[q]++;
			(*issued)++;
			added = true;
		}
		if (added && virtq_kick_if_needed(&j->b->q[q]))
			j->kicks++;
	}
}

/* Collect completions; false if there were none. */
static bool reap(struct vblk_batch *j)
{
	unsigned *inflight = j->inflight;
	bool got = false;

	for (unsigned q = 0; q < j->queues; q++) {
		struct vblk_slot *s;

		while ((s = virtq_get(&j->b->q[q], NULL))) {
			inflight[q]--;
			j->done++;
			if (s->status != VBLK_S_OK && j->errors++ == 0)
				j->first_error = s->status;
			got = true;
		}
		if (got && j->b->irq)
			virtq_set_used_event(&j->b->q[q], 0);
	}
	return got;
}

uint64_t vblk_batch_run(void *arg)
{
	struct vblk_batch *j = arg;

	if (!j->queues || j->queues > j->b->nq)
		j->queues = j->b->nq;
	if (!j->req_sectors || j->span < j->req_sectors)
		return 1;
	if (!j->waiting) {  /* a new run, not the rest of one */
		memset(j->inflight, 0, sizeof(j->inflight));
		j->issued = 0;
	}
	j->waiting = false;
	while (j->done < j->count) {
		issue(j);
		if (reap(j))
			continue;
		if (rdtsc() > j->deadline_tsc) {
			j->timed_out = true;
			break;
		}
		if (j->wait_irq) {
			j->waiting = true;
			return VBLK_BATCH_WAIT;
		}
		cpu_relax();
	}
	return j->errors || j->timed_out;
}

/* Completions wanted before waking: half of what is in flight. */
static uint16_t wake_after(unsigned inflight)
{
	return (uint16_t)(inflight / 2 ? inflight / 2 : 1);
}

/* Interrupts off: has some queue got what its wait asked for? */
static bool batch_ready(void *ctx)
{
	struct vblk_batch *j = ctx;

	for (unsigned q = 0; q < j->queues; q++)
		if (j->inflight[q] &&
		    virtq_pending(&j->b->q[q]) >= wake_after(j->inflight[q]))
			return true;
	return false;
}

uint64_t vblk_batch_wait(struct vblk_batch *j)
{
	uint64_t rc;

	j->wait_irq = j->b->irq;
	while ((rc = user_call(vblk_batch_run, j)) == VBLK_BATCH_WAIT) {
		for (unsigned q = 0; q < j->queues; q++)
			if (j->inflight[q])
				virtq_set_used_event(&j->b->q[q],
						     wake_after(j->inflight[q]));
		full_fence();  /* used_event before we look at used->idx */
		j->waits++;
		if (!wait_event_until(j->deadline_tsc, batch_ready, j)) {
			j->waiting = false;
			j->timed_out = true;
			return 1;
		}
	}
	return rc;
}
