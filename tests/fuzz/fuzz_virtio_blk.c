/*
 * libFuzzer harness for virtio-blk request parsing: the input is a whole
 * guest (ring placement, RAM contents, avail updates) plus the disk's
 * limits; every chain popped is framed (blk_frame) and checked
 * (blk_check) as the device does it, and what the device would then touch
 * must lie inside guest RAM and inside the disk.
 *
 *   make fuzz-virtio-blk           (clang, 20 s; FUZZ_TIME=secs to change)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio_blk_req.h"
#include "devices/virtqueue.h"

#define RAM_SIZE  0x3000ULL
#define MAX_IOV   32
#define MAX_POPS  128
#define HDR       8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct guest_memory *g_mem;

static bool inside(const void *p, size_t len)
{
	const uint8_t *lo = g_mem->host, *b = p;

	return b >= lo && len <= RAM_SIZE && b + len <= lo + RAM_SIZE;
}

static void check_span(const struct blk_span *s)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < s->n; i++) {
		if (!inside(s->iov[i].iov_base, s->iov[i].iov_len))
			abort();
		sum += s->iov[i].iov_len;
	}
	if (sum != s->len)
		abort();
}

/* What the device does with an accepted request, touching the memory. */
static void act(const struct blk_request *r, const struct blk_op *o,
		const struct blk_limits *l)
{
	uint64_t disk_bytes = l->capacity << BLK_SECTOR_SHIFT;

	if (o->status != VIRTIO_BLK_S_OK)
		return;
	if (o->offset > disk_bytes || o->len > disk_bytes - o->offset)
		abort();
	if (r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT) {
		const struct blk_span *d = r->type == VIRTIO_BLK_T_IN ? &r->in : &r->out;

		if (d->len != o->len || o->len % BLK_SECTOR_SIZE ||
		    (l->seg_max && d->n > l->seg_max) || (l->readonly &&
		    r->type == VIRTIO_BLK_T_OUT))
			abort();
		for (unsigned i = 0; i < d->n; i++)
			memset(d->iov[i].iov_base, 0xa5, d->iov[i].iov_len);
	}
	if ((r->type == VIRTIO_BLK_T_DISCARD && (!l->discard || l->readonly)) ||
	    (r->type == VIRTIO_BLK_T_WRITE_ZEROES &&
	     (!l->write_zeroes || l->readonly)))
		abort();
}

static void one_chain(struct virtq_elem *e, const struct blk_limits *l)
{
	struct blk_request r;
	struct blk_op o;
	const char *why = NULL;

	if (blk_frame(e, &r, &why) < 0) {
		if (!why || (e->out_bytes >= BLK_HDR_BYTES && e->in_bytes))
			abort();
		return;
	}
	if (e->out_bytes < BLK_HDR_BYTES || !e->in_bytes || !inside(r.status, 1))
		abort();
	check_span(&r.out);
	check_span(&r.in);
	if (r.out.len != e->out_bytes - BLK_HDR_BYTES ||
	    r.in.len != (uint64_t)e->in_bytes - 1)
		abort();
	o = blk_check(&r, l);
	act(&r, &o, l);
	*r.status = o.status;
}

static struct blk_limits limits_from(const uint8_t *p)
{
	return (struct blk_limits){
		.capacity = p[0] & 0x80 ? (uint64_t)p[1] << 46 : p[1],  /* < 2^55 */
		.readonly = p[0] & 1, .discard = p[0] & 2,
		.write_zeroes = p[0] & 4,
		.seg_max = p[0] & 8 ? p[2] % 8 : 0,
		.size_max = p[0] & 16 ? 512u << (p[2] % 4) : 0,
		.max_discard_sectors = p[3], .max_write_zeroes_sectors = p[3],
	};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_memory mem;
	struct iovec iov[MAX_IOV];
	struct virtq_elem e = { .iov = iov, .max_iov = MAX_IOV };
	struct blk_limits l;
	struct virtqueue vq;
	size_t fill;
	const uint8_t *tail;

	if (size < HDR)
		return 0;
	mem.host = malloc(RAM_SIZE);
	mem.size = RAM_SIZE;
	mem.nr_regions = 1;
	mem.regions[0] = (struct guest_region){ 0, RAM_SIZE, 0 };
	g_mem = &mem;
	fill = size - HDR < RAM_SIZE ? size - HDR : RAM_SIZE;
	memset(mem.host, 0, RAM_SIZE);
	memcpy(mem.host, data + HDR, fill);
	tail = data + HDR + fill;
	l = limits_from(data + 4);
	if (virtqueue_setup(&vq, &mem, (uint16_t)(1u << (data[0] % 6)),
			    (uint64_t)data[1] * 0x40, (uint64_t)data[2] * 0x40,
			    (uint64_t)data[3] * 0x40, data[0] & 0x80,
			    false) == 0) {
		for (unsigned i = 0; i < MAX_POPS; i++) {
			int r = virtqueue_pop(&vq, &e);

			if (r <= 0) {
				if (tail >= data + size || vq.broken)
					break;
				vq.avail->idx = (uint16_t)(vq.avail->idx + *tail++);
				continue;
			}
			one_chain(&e, &l);
			virtqueue_push(&vq, e.head, e.in_bytes);
		}
	}
	free(mem.host);
	return 0;
}
