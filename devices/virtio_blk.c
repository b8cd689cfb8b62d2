/*
 * virtio-blk (virtio 1.2 section 5.2): one PCI function per disk, backed
 * by a block back end (block_backend.h) through the I/O engine
 * (block_aio.h).
 *
 * Flow: a kick reaches queue_notify() on the main loop with the device
 * lock held; chains are popped, framed and checked (virtio_blk_req.c),
 * and either answered at once (errors, GET_ID, no-ops) or handed to the
 * engine.  Completions come back in batches (blk_done(), main loop or I/O
 * worker), take the lock, write the status byte, push and interrupt.
 *
 * Guest-controlled resources are bounded: at most QUEUE_SIZE requests in
 * flight per queue (a queue at its limit is "throttled" and re-read when a
 * completion frees a slot, so a guest that re-posts descriptors without
 * waiting cannot make us allocate more), and at most twice that across a
 * reset (requests of the previous incarnation finish first and are then
 * dropped without touching guest memory: see reset()).
 */
#include "devices/virtio_blk.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/block_aio.h"
#include "devices/block_backend.h"
#include "devices/virtio.h"
#include "devices/virtio_blk_req.h"
#include "devices/virtio_pci.h"
#include "devices/virtio_poll.h"
#include "lib/domain_config.h"
#include "lib/log.h"
#include "lib/state_buf.h"
#include "vmm/main_loop.h"
#include "vmm/vm.h"

#define QUEUE_SIZE  256
#define MAX_QUEUES  8
#define SEG_MAX     (QUEUE_SIZE - 2)
/* Header and status may be split over a few descriptors of their own. */
#define MAX_IOV     (SEG_MAX + 8)
#define SIZE_MAX_BYTES        (4u << 20)
#define MAX_DISCARD_SECTORS   (1u << 22)   /* 2 GiB per request */
#define DISCARD_ALIGN_SECTORS 8            /* 4 KiB: hole granularity */

#define PCI_CLASS_STORAGE_SCSI 0x010000

/*
 * Large requests are handed to the engine and reaped every REAP_BYTES
 * while a queue is being read, not once at the end: buffered reads from
 * the page cache complete inside io_uring_enter, so reaping only at the
 * end would hold every completion of a 16 MiB batch until the last byte
 * is copied, the guest could only refill after that, and the device
 * would sit idle for a round trip per batch.  Completed early, the guest
 * refills while the copy goes on and one pass keeps popping.
 * PASS_BYTES / PASS_REQS bound one pass so a guest that keeps the queue
 * full cannot hold the main loop: the rest is picked up again through
 * again_fd after the loop's other work.
 */
#define REAP_BYTES (256u << 10)
#define PASS_BYTES (32u << 20)
#define PASS_REQS  QUEUE_SIZE

/* struct virtio_blk_config up to write_zeroes_may_unmap (5.2.4). */
struct blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback, unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap, unused1[3];
} __attribute__((packed));
_Static_assert(sizeof(struct blk_config) == 60, "virtio_blk_config");
_Static_assert(offsetof(struct blk_config, writeback) == 32, "layout");
_Static_assert(offsetof(struct blk_config, num_queues) == 34, "layout");
_Static_assert(offsetof(struct blk_config, max_discard_sectors) == 36, "layout");

struct blk_queue {
	unsigned inflight;
	struct virtio_poll poll;
	bool throttled;    /* stopped popping at the in-flight limit */
	bool signal;       /* pushed since the last interrupt decision */
	bool again;        /* a pass stopped at its budget: resume it */
};

struct blk_req {
	struct block_req io;
	uint16_t queue;
	uint32_t gen;
	uint8_t *status;
	struct virtq_elem elem;
	struct blk_req *next_free;
	struct iovec iov[MAX_IOV];
};

struct virtio_blk {
	struct virtio_dev *vdev;
	struct virtio_device_ops ops;   /* per device: queue count varies */
	struct block_backend *bb;       /* NULL: empty cdrom drive */
	struct block_aio *aio;
	char name[48];
	char id[BLK_ID_BYTES];
	struct blk_limits limits;
	uint64_t features;
	uint8_t writeback;
	struct blk_queue queues[MAX_QUEUES];
	unsigned nq;
	uint32_t gen;                   /* bumped by every reset */
	bool dying;
	unsigned allocated, max_reqs;
	struct blk_req *free_reqs;
	unsigned io_errors;
	int again_fd;                   /* eventfd: resume queues marked again */
};

static struct virtio_blk *vb_of(struct virtio_dev *vdev)
{
	return vdev->priv;
}

/* ---- requests ------------------------------------------------------------------ */

static struct blk_req *req_get(struct virtio_blk *vb)
{
	struct blk_req *r = vb->free_reqs;

	if (r) {
		vb->free_reqs = r->next_free;
		return r;
	}
	if (vb->allocated >= vb->max_reqs)
		return NULL;
	r = malloc(sizeof(*r));
	if (r)
		vb->allocated++;
	return r;
}

static void req_put(struct virtio_blk *vb, struct blk_req *r)
{
	r->next_free = vb->free_reqs;
	vb->free_reqs = r;
}

/* The request is over: report status to the guest, unless the driver
 * reset the device meanwhile (the memory is no longer the request's). */
static void complete(struct virtio_blk *vb, struct blk_req *r, uint8_t status)
{
	if (r->gen == vb->gen && !vb->dying) {
		struct blk_queue *q = &vb->queues[r->queue];

		*r->status = status;
		virtio_queue_push(vb->vdev, r->queue, &r->elem, r->elem.in_bytes);
		q->inflight--;
		q->signal = true;
	}
	req_put(vb, r);
}

static void submit(struct virtio_blk *vb, struct blk_req *r,
		   enum block_op_kind op, const struct blk_op *o,
		   const struct blk_span *data)
{
	r->io = (struct block_req){
		.op = op, .offset = o->offset, .len = o->len, .unmap = o->unmap,
		.dsync = op == BLOCK_WRITE && !vb->writeback,
	};
	if (data) {
		r->io.iov = data->iov;
		r->io.niov = data->n;
	}
	block_aio_submit(vb->aio, &r->io);
}

static void get_id(struct virtio_blk *vb, struct blk_req *r,
		   const struct blk_request *br)
{
	size_t n = br->in.len < BLK_ID_BYTES ? (size_t)br->in.len : BLK_ID_BYTES;

	virtq_buf_to_iov(br->in.iov, br->in.n, vb->id, n);
	complete(vb, r, VIRTIO_BLK_S_OK);
}

/* Frame, check and start one popped request; false if the chain broke
 * the device. */
static bool start(struct virtio_blk *vb, struct blk_req *r)
{
	struct blk_request br;
	struct blk_op o;
	const char *why;

	if (blk_frame(&r->elem, &br, &why) < 0) {
		virtio_device_broken(vb->vdev, "queue %u: %s", r->queue, why);
		return false;
	}
	r->status = br.status;
	o = blk_check(&br, &vb->limits);
	if (o.status != VIRTIO_BLK_S_OK) {
		complete(vb, r, o.status);
		return true;
	}
	switch (br.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (!o.len)
			complete(vb, r, VIRTIO_BLK_S_OK);
		else if (br.type == VIRTIO_BLK_T_IN)
			submit(vb, r, BLOCK_READ, &o, &br.in);
		else
			submit(vb, r, BLOCK_WRITE, &o, &br.out);
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (vb->bb)
			submit(vb, r, BLOCK_FLUSH, &o, NULL);
		else
			complete(vb, r, VIRTIO_BLK_S_OK);
		break;
	case VIRTIO_BLK_T_GET_ID:
		get_id(vb, r, &br);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!o.len)
			complete(vb, r, VIRTIO_BLK_S_OK);
		else
			submit(vb, r, br.type == VIRTIO_BLK_T_DISCARD ?
			       BLOCK_DISCARD : BLOCK_WRITE_ZEROES, &o, NULL);
		break;
	}
	return true;
}

static void signal_queues(struct virtio_blk *vb)
{
	for (unsigned q = 0; q < vb->nq; q++) {
		if (vb->queues[q].signal) {
			vb->queues[q].signal = false;
			virtio_queue_signal(vb->vdev, q);
		}
	}
}

static void done_locked(void *opaque, struct block_req **reqs, unsigned n);

/* Hand what was queued to the engine, complete what already finished
 * and tell the guest. */
static void flush_and_reap(struct virtio_blk *vb)
{
	if (vb->aio)
		block_aio_kick_and_reap(vb->aio, done_locked, vb);
	signal_queues(vb);
}

/* The pass over queue qi ran out of budget with buffers left. */
static void resume_later(struct virtio_blk *vb, unsigned qi)
{
	uint64_t one = 1;

	vb->queues[qi].again = true;
	if (write(vb->again_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_errno("%s: eventfd", vb->name);
}

/* Pop and start what the guest queued, up to the in-flight limit and the
 * pass budget, reaping as it goes (see REAP_BYTES). */
static void process_queue(struct virtio_blk *vb, unsigned qi)
{
	struct blk_queue *q = &vb->queues[qi];
	uint64_t unreaped = 0, passed = 0;
	unsigned reqs = 0;
	struct blk_req *r;

	q->throttled = false;
	q->again = false;
	while (!vb->dying) {
		if (q->inflight >= QUEUE_SIZE || !(r = req_get(vb))) {
			q->throttled = virtio_queue_has_buffers(vb->vdev, qi);
			break;
		}
		if (reqs == PASS_REQS || passed >= PASS_BYTES) {
			req_put(vb, r);
			if (virtio_queue_has_buffers(vb->vdev, qi))
				resume_later(vb, qi);
			break;
		}
		r->elem = (struct virtq_elem){ .iov = r->iov, .max_iov = MAX_IOV };
		if (virtio_queue_pop(vb->vdev, qi, &r->elem) != 1) {
			req_put(vb, r);
			break;
		}
		r->queue = (uint16_t)qi;
		r->gen = vb->gen;
		q->inflight++;
		reqs++;
		unreaped += (uint64_t)r->elem.in_bytes + r->elem.out_bytes;
		if (!start(vb, r)) {
			q->inflight--;
			req_put(vb, r);
			break;
		}
		if (unreaped >= REAP_BYTES) {
			passed += unreaped;
			unreaped = 0;
			flush_and_reap(vb);
		}
	}
	if (vb->aio)
		block_aio_kick_and_reap(vb->aio, done_locked, vb);
}

/* Passes that stopped at their budget go on (main loop). */
static void run_again(struct virtio_blk *vb)
{
	for (unsigned q = 0; q < vb->nq && !vb->dying; q++)
		if (vb->queues[q].again && virtio_queue_ready(vb->vdev, q))
			process_queue(vb, q);
}

static void on_again(void *opaque, uint32_t events)
{
	struct virtio_blk *vb = opaque;
	uint64_t v;

	(void)events;
	if (read(vb->again_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_errno("%s: eventfd", vb->name);
	virtio_lock(vb->vdev);
	run_again(vb);
	signal_queues(vb);
	virtio_unlock(vb->vdev);
}

/* Polling after a kick (virtio_poll.h): one queue's worth of context. */
struct poll_ctx {
	struct virtio_blk *vb;
	unsigned q;
};

static void poll_run(void *opaque)
{
	struct poll_ctx *c = opaque;

	process_queue(c->vb, c->q);
	signal_queues(c->vb);
}

/* In-flight requests complete while we poll: reap them here, since the
 * main loop is not looking at the ring's eventfd meanwhile. */
static void poll_idle(void *opaque)
{
	struct poll_ctx *c = opaque;

	if (c->vb->aio)
		block_aio_kick_and_reap(c->vb->aio, done_locked, c->vb);
	signal_queues(c->vb);
}

static bool poll_stop(void *opaque)
{
	return ((struct poll_ctx *)opaque)->vb->dying;
}

static const struct virtio_poll_ops poll_ops = {
	.run = poll_run, .idle = poll_idle, .stop = poll_stop,
};

static void vb_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	struct virtio_blk *vb = vb_of(vdev);
	struct poll_ctx c = { vb, q };

	poll_run(&c);
	virtio_poll_queue(vdev, q, &vb->queues[q].poll, &poll_ops, &c);
}

/* Engine completions, device lock held. */
static void done_locked(void *opaque, struct block_req **reqs, unsigned n)
{
	struct virtio_blk *vb = opaque;

	for (unsigned i = 0; i < n; i++) {
		struct blk_req *r = (struct blk_req *)((char *)reqs[i] -
						       offsetof(struct blk_req, io));
		int err = reqs[i]->result;

		if (err && vb->io_errors++ == 0)
			log_warn("%s: I/O error at byte %llu: %s", vb->name,
				 (unsigned long long)reqs[i]->offset,
				 strerror(-err));
		complete(vb, r, err ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
	}
}

/* Engine completions (no engine lock held): complete, re-fill queues
 * that stopped at their limit, interrupt. */
static void blk_done(void *opaque, struct block_req **reqs, unsigned n)
{
	struct virtio_blk *vb = opaque;

	virtio_lock(vb->vdev);
	done_locked(vb, reqs, n);
	for (unsigned q = 0; q < vb->nq && !vb->dying; q++)
		if (vb->queues[q].throttled && virtio_queue_ready(vb->vdev, q))
			process_queue(vb, q);
	signal_queues(vb);
	virtio_unlock(vb->vdev);
}

/* ---- virtio ops ---------------------------------------------------------------- */

static uint64_t vb_features(struct virtio_dev *vdev)
{
	return vb_of(vdev)->features;
}

static void fill_config(const struct virtio_blk *vb, struct blk_config *c)
{
	memset(c, 0, sizeof(*c));
	c->capacity = vb->limits.capacity;
	c->size_max = vb->limits.size_max;
	c->seg_max = vb->limits.seg_max;
	c->blk_size = BLK_SECTOR_SIZE;
	c->writeback = vb->writeback;
	c->num_queues = (uint16_t)vb->nq;
	c->max_discard_sectors = vb->limits.max_discard_sectors;
	c->max_discard_seg = 1;
	c->discard_sector_alignment = DISCARD_ALIGN_SECTORS;
	c->max_write_zeroes_sectors = vb->limits.max_write_zeroes_sectors;
	c->max_write_zeroes_seg = 1;
	c->write_zeroes_may_unmap = 1;
}

static void vb_get_config(struct virtio_dev *vdev, uint32_t off, void *buf,
			  uint32_t len)
{
	struct blk_config c;

	fill_config(vb_of(vdev), &c);
	memcpy(buf, (uint8_t *)&c + off, len);
}

/* Only writeback is writable, and only with CONFIG_WCE (5.2.5.1). */
static void vb_set_config(struct virtio_dev *vdev, uint32_t off,
			  const void *buf, uint32_t len)
{
	uint32_t wb = offsetof(struct blk_config, writeback);

	if (off <= wb && wb < off + len &&
	    virtio_has_feature(vdev, VIRTIO_BLK_F_CONFIG_WCE))
		vb_of(vdev)->writeback = ((const uint8_t *)buf)[wb - off] ? 1 : 0;
}

/* Requests still in flight belong to the old incarnation: they finish,
 * then complete() drops them (gen differs). */
static void vb_reset(struct virtio_dev *vdev)
{
	struct virtio_blk *vb = vb_of(vdev);

	vb->gen++;
	vb->writeback = 1;
	for (unsigned q = 0; q < vb->nq; q++)
		vb->queues[q] = (struct blk_queue){ 0 };
}

/* ---- save/restore (docs/save-format.md) --------------------------------------- */

#define VB_STATE_VERSION 1
#define QUIESCE_POLL_NS  50000
#define QUIESCE_WARN_NS  (10ULL * 1000000000)

/* Requests taken from the guest and not yet over (older resets' too:
 * their writes still reach the disk). */
static unsigned outstanding(const struct virtio_blk *vb)
{
	unsigned n = vb->allocated;

	for (const struct blk_req *r = vb->free_reqs; r; r = r->next_free)
		n--;
	return n;
}

static bool any_again(const struct virtio_blk *vb)
{
	for (unsigned q = 0; q < vb->nq; q++)
		if (vb->queues[q].again)
			return true;
	return false;
}

/* Every request the guest made completes before the state is read: the
 * completions go to the used rings (and into the saved RAM).  A pass cut
 * short by its budget is a kick not yet fully served: it is finished
 * here (the vCPUs are paused, so the queues only shrink), or its
 * requests would be popped after the state was taken. */
static void vb_quiesce(struct virtio_dev *vdev)
{
	struct virtio_blk *vb = vb_of(vdev);
	struct timespec pause = { 0, QUIESCE_POLL_NS };
	uint64_t waited = 0;
	unsigned left;

	for (;;) {
		virtio_lock(vdev);
		run_again(vb);
		if (vb->aio)
			block_aio_kick_and_reap(vb->aio, done_locked, vb);
		signal_queues(vb);
		left = outstanding(vb) + any_again(vb);
		virtio_unlock(vdev);
		if (!left)
			return;
		nanosleep(&pause, NULL);
		waited += QUIESCE_POLL_NS;
		if (waited == QUIESCE_WARN_NS)
			log_warn("%s: still waiting for %u request(s) in flight "
				 "before saving", vb->name, left);
	}
}

static void vb_save(struct virtio_dev *vdev, struct sbuf *out)
{
	struct virtio_blk *vb = vb_of(vdev);

	sbuf_u64(out, vb->limits.capacity);
	sbuf_u8(out, vb->writeback);
}

static void vb_load(struct virtio_dev *vdev, struct sreader *in,
		    uint32_t version)
{
	struct virtio_blk *vb = vb_of(vdev);
	uint64_t capacity = sr_u64(in);
	uint8_t writeback = sr_u8(in);

	(void)version;
	if (sr_ok(in) && capacity != vb->limits.capacity)
		sr_fail(in, "%s: the disk has %llu sectors here, %llu in the "
			"stream (not the same storage?)", vb->name,
			(unsigned long long)vb->limits.capacity,
			(unsigned long long)capacity);
	if (sr_ok(in) && writeback > 1)
		sr_fail(in, "%s: writeback %u", vb->name, writeback);
	if (!sr_ok(in))
		return;
	vb->writeback = writeback;
	for (unsigned q = 0; q < vb->nq; q++)
		vb->queues[q] = (struct blk_queue){ 0 };
}

/* ---- creation ------------------------------------------------------------------ */

static void set_limits(struct virtio_blk *vb, const struct xl_disk *d)
{
	bool writable = vb->bb && !d->readonly;

	vb->limits = (struct blk_limits){
		.capacity = vb->bb ? vb->bb->size >> BLK_SECTOR_SHIFT : 0,
		.readonly = d->readonly || !vb->bb,
		.discard = writable && d->discard,
		.write_zeroes = writable,
		.seg_max = SEG_MAX,
		.size_max = SIZE_MAX_BYTES,
		.max_discard_sectors = MAX_DISCARD_SECTORS,
		.max_write_zeroes_sectors = MAX_DISCARD_SECTORS,
	};
	vb->features = 1ULL << VIRTIO_BLK_F_SIZE_MAX | 1ULL << VIRTIO_BLK_F_SEG_MAX |
		       1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_FLUSH |
		       1ULL << VIRTIO_BLK_F_CONFIG_WCE | 1ULL << VIRTIO_BLK_F_MQ;
	if (vb->limits.readonly)
		vb->features |= 1ULL << VIRTIO_BLK_F_RO;
	if (vb->limits.discard)
		vb->features |= 1ULL << VIRTIO_BLK_F_DISCARD;
	if (vb->limits.write_zeroes)
		vb->features |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
}

static void set_ops(struct virtio_blk *vb)
{
	vb->ops = (struct virtio_device_ops){
		.name = vb->name,
		.type = VIRTIO_ID_BLOCK,
		.pci_class = PCI_CLASS_STORAGE_SCSI,
		.num_queues = vb->nq,
		.queue_max_size = QUEUE_SIZE,
		.config_size = sizeof(struct blk_config),
		.get_features = vb_features,
		.get_config = vb_get_config,
		.set_config = vb_set_config,
		.queue_notify = vb_queue_notify,
		.reset = vb_reset,
		.state_version = VB_STATE_VERSION,
		.quiesce = vb_quiesce,
		.save = vb_save,
		.load = vb_load,
	};
}

struct virtio_blk *virtio_blk_create(struct vm *vm, struct pci_bus *bus,
				     const struct xl_disk *disk,
				     struct block_backend *bb)
{
	struct virtio_blk *vb = calloc(1, sizeof(*vb));

	if (!vb) {
		log_error("virtio-blk %s: out of memory", disk->vdev);
		block_backend_close(bb);
		return NULL;
	}
	vb->bb = bb;
	vb->again_fd = -1;
	snprintf(vb->name, sizeof(vb->name), "virtio-blk %s", disk->vdev);
	/* The serial is the Xen vdev name; shorter ones are NUL-padded. */
	memcpy(vb->id, disk->vdev, strnlen(disk->vdev, sizeof(vb->id)));
	vb->nq = vm->nr_vcpus < 1 ? 1 : vm->nr_vcpus > MAX_QUEUES ? MAX_QUEUES :
		 vm->nr_vcpus;
	vb->max_reqs = 2 * vb->nq * QUEUE_SIZE;
	vb->writeback = 1;
	set_limits(vb, disk);
	set_ops(vb);
	vb->again_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vb->again_fd < 0 ||
	    main_loop_add_fd(vb->again_fd, EPOLLIN, on_again, vb) < 0) {
		log_errno("%s: eventfd", vb->name);
		if (vb->again_fd >= 0)
			close(vb->again_fd);
		vb->again_fd = -1;
		goto fail;
	}
	if (bb) {
		vb->aio = block_aio_create(bb, vb->max_reqs, blk_done, vb, vb->name);
		if (!vb->aio)
			goto fail;
		block_aio_fixed_ram(vb->aio, vm->mem.host, vm->mem.size);
	}
	vb->vdev = virtio_pci_create(vm, bus, &vb->ops, vb);
	if (!vb->vdev)
		goto fail;
	return vb;
fail:
	virtio_blk_destroy(vb);
	return NULL;
}

void virtio_blk_destroy(struct virtio_blk *vb)
{
	if (!vb)
		return;
	if (vb->vdev) {
		virtio_lock(vb->vdev);
		vb->dying = true;
		virtio_unlock(vb->vdev);
	} else {
		vb->dying = true;
	}
	if (vb->again_fd >= 0) {
		main_loop_del_fd(vb->again_fd);
		close(vb->again_fd);
	}
	/* Waits for the I/O still in flight; complete() just recycles it. */
	block_aio_destroy(vb->aio);
	virtio_pci_destroy(vb->vdev);
	block_backend_close(vb->bb);
	while (vb->free_reqs) {
		struct blk_req *r = vb->free_reqs;

		vb->free_reqs = r->next_free;
		free(r);
	}
	free(vb);
}
