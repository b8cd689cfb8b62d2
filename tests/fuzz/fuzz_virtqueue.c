/*
 * libFuzzer harness for the split-virtqueue parser: the input is a whole
 * guest (ring placement, features, RAM contents, avail index updates);
 * every chain popped must lie inside one RAM region and within limits.
 *
 *   make fuzz-virtqueue            (clang, 20 s; FUZZ_TIME=secs to change)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtqueue.h"

#define LOW_SIZE   0x2000ULL         /* [0, 8 KiB): small, so inputs cover it */
#define HIGH_GPA   0x100000000ULL
#define HIGH_SIZE  0x400ULL          /* [4 GiB, 4 GiB + 1 KiB) */
#define MAX_IOV    64
#define MAX_POPS   256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const struct guest_memory *m, const struct iovec *v)
{
	for (unsigned i = 0; i < m->nr_regions; i++) {
		const uint8_t *lo = m->host + m->regions[i].offset;
		const uint8_t *p = v->iov_base;

		if (p >= lo && p + v->iov_len <= lo + m->regions[i].size)
			return true;
	}
	return false;
}

/* Ring addresses: mostly sensible, sometimes anywhere. */
static uint64_t pick_addr(uint8_t sel)
{
	if (sel & 0x80)
		return (sel & 0x40 ? HIGH_GPA : 0) + (uint64_t)(sel & 0x3f) * 0x10 +
		       (sel & 1);
	return (uint64_t)sel * 0x40;
}

static void check_elem(const struct guest_memory *m, const struct virtqueue *vq,
		       const struct virtq_elem *e)
{
	uint64_t out = 0, in = 0;

	if (e->out_num + e->in_num > e->max_iov || e->head >= vq->size)
		abort();
	for (unsigned i = 0; i < e->out_num + e->in_num; i++) {
		if (!inside(m, &e->iov[i]) || e->iov[i].iov_len == 0)
			abort();
		*(i < e->out_num ? &out : &in) += e->iov[i].iov_len;
	}
	if (out != e->out_bytes || in != e->in_bytes ||
	    out + in > vq->max_chain_bytes)
		abort();
}

/* Touch every byte the device would: reads of the readable part, writes
 * of the writable part (ASan catches anything outside the allocation). */
static uint32_t consume(const struct virtq_elem *e)
{
	uint8_t sum = 0;

	for (unsigned i = 0; i < e->out_num; i++)
		for (size_t j = 0; j < e->iov[i].iov_len; j++)
			sum ^= ((const uint8_t *)e->iov[i].iov_base)[j];
	for (unsigned i = e->out_num; i < e->out_num + e->in_num; i++)
		memset(e->iov[i].iov_base, sum, e->iov[i].iov_len);
	return e->in_bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_memory mem;
	struct iovec iov[MAX_IOV];
	struct virtq_elem e = { .iov = iov };
	struct virtqueue vq;
	size_t ram = LOW_SIZE + HIGH_SIZE, fill;
	const uint8_t *tail;

	if (size < 6)
		return 0;
	mem.host = malloc(ram);
	mem.size = ram;
	mem.nr_regions = 2;
	mem.regions[0] = (struct guest_region){ 0, LOW_SIZE, 0 };
	mem.regions[1] = (struct guest_region){ HIGH_GPA, HIGH_SIZE, LOW_SIZE };
	fill = size - 6 < ram ? size - 6 : ram;
	memset(mem.host, 0, ram);
	memcpy(mem.host, data + 6, fill);
	tail = data + 6 + fill;
	e.max_iov = 1 + data[5] % MAX_IOV;

	if (virtqueue_setup(&vq, &mem, (uint16_t)(1u << (data[0] % 8)),
			    pick_addr(data[1]), pick_addr(data[2]),
			    pick_addr(data[3]), data[4] & 1, data[4] & 2) == 0) {
		if (data[4] & 4)
			vq.max_chain_bytes = 0x1000;
		for (unsigned i = 0; i < MAX_POPS; i++) {
			int r = virtqueue_pop(&vq, &e);

			if (r < 0 && (!vq.broken || !vq.error[0]))
				abort();
			if (r <= 0) {
				/* Let the "driver" publish more, from the input. */
				if (tail >= data + size || vq.broken)
					break;
				vq.avail->idx = (uint16_t)(vq.avail->idx + *tail++);
				continue;
			}
			check_elem(&mem, &vq, &e);
			virtqueue_push(&vq, e.head, consume(&e));
			virtqueue_should_notify(&vq);
		}
	}
	free(mem.host);
	return 0;
}
