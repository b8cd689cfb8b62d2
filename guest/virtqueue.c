/*
 * Split virtqueue driver.  x86 keeps stores in order and the notify is an
 * uncached MMIO write, so publishing needs only compiler barriers; the
 * descriptors are written before avail->idx moves.
 */
#include "guest/virtqueue.h"

#include "guest/memory.h"
#include "guest/x86.h"

/* Layout of one allocation: descriptors, avail ring, used ring (on a
 * 4-byte boundary), then the token array (8-byte aligned). */
static uint64_t used_offset(uint16_t size)
{
	return 16ULL * size + ((6 + 2ULL * size + 3) & ~3ULL);
}

static uint64_t tokens_offset(uint16_t size)
{
	return (used_offset(size) + 6 + 8ULL * size + 7) & ~7ULL;
}

bool virtq_alloc(struct virtq *vq, uint16_t index, uint16_t size)
{
	uint8_t *mem;

	if (!size || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return false;
	mem = page_alloc((tokens_offset(size) + 8ULL * size + PAGE_SIZE - 1) /
			 PAGE_SIZE);
	if (!mem)
		return false;
	vq->index = index;
	vq->size = size;
	vq->desc = (struct vring_desc *)mem;
	vq->avail = (struct vring_avail *)(mem + 16ULL * size);
	vq->used = (struct vring_used *)(mem + used_offset(size));
	vq->tokens = (void **)(mem + tokens_offset(size));
	for (uint16_t i = 0; i < size; i++)
		vq->desc[i].next = (uint16_t)(i + 1);
	vq->free_head = 0;
	vq->num_free = size;
	vq->last_used = 0;
	return true;
}

bool virtq_add(struct virtq *vq, const struct virtq_buf *bufs,
	       unsigned out, unsigned in, void *token)
{
	unsigned n = out + in;
	uint16_t head = vq->free_head, i = head, last = head;

	if (!n || n > vq->num_free)
		return false;
	for (unsigned k = 0; k < n; k++) {
		struct vring_desc *d = &vq->desc[i];

		d->addr = (uint64_t)bufs[k].addr;
		d->len = bufs[k].len;
		d->flags = (k >= out ? VRING_DESC_F_WRITE : 0) |
			   (k + 1 < n ? VRING_DESC_F_NEXT : 0);
		last = i;
		i = d->next;
	}
	vq->free_head = vq->desc[last].next;
	vq->num_free -= (uint16_t)n;
	vq->tokens[head] = token;
	vq->avail->ring[vq->avail->idx & (vq->size - 1)] = head;
	barrier();  /* ring entry before the index that publishes it */
	vq->avail->idx++;
	return true;
}

void virtq_kick(struct virtq *vq)
{
	full_fence();  /* avail->idx visible before the device looks */
	mmio_write16(vq->notify_addr, vq->index);
}

bool virtq_kick_if_needed(struct virtq *vq)
{
	full_fence();  /* avail->idx visible before we read used->flags */
	if (*(volatile uint16_t *)&vq->used->flags & 1)  /* NO_NOTIFY */
		return false;
	mmio_write16(vq->notify_addr, vq->index);
	return true;
}

bool virtq_has_used(const struct virtq *vq)
{
	return *(volatile uint16_t *)&vq->used->idx != vq->last_used;
}

uint16_t virtq_pending(const struct virtq *vq)
{
	return (uint16_t)(*(volatile uint16_t *)&vq->used->idx - vq->last_used);
}

/* used_event is the word after the avail ring (virtio 1.2, 2.7.10). */
void virtq_set_used_event(struct virtq *vq, uint16_t n)
{
	*(volatile uint16_t *)&vq->avail->ring[vq->size] =
		(uint16_t)(vq->last_used + n - 1);
}

/* Put a finished chain back on the free list. */
static void free_chain(struct virtq *vq, uint16_t head)
{
	uint16_t i = head, n = 1;

	while (vq->desc[i].flags & VRING_DESC_F_NEXT) {
		i = vq->desc[i].next;
		n++;
	}
	vq->desc[i].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += n;
}

void *virtq_get(struct virtq *vq, uint32_t *len)
{
	struct vring_used_elem e;
	void *token;

	if (!virtq_has_used(vq))
		return NULL;
	barrier();  /* read the element only after seeing the index */
	e = vq->used->ring[vq->last_used & (vq->size - 1)];
	vq->last_used++;
	if (e.id >= vq->size)
		return NULL;  /* a broken device; ignore the entry */
	token = vq->tokens[e.id];
	free_chain(vq, (uint16_t)e.id);
	if (len)
		*len = e.len;
	return token;
}
