/*
 * Split virtqueue, device side.  See virtqueue.h for the rules enforced.
 *
 * x86 hosts only: the rings are little-endian and so is the host, so fields
 * are read in place.  Ordering with the guest's vCPUs follows the spec's
 * barriers: acquire on avail->idx before reading entries, release on
 * used->idx after writing them, and a full fence before deciding whether
 * the driver wants an interrupt (it may be switching suppression on or off
 * concurrently).
 */
#include "devices/virtqueue.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint16_t load16_acquire(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* used_event lives after the avail ring, avail_event after the used ring. */
static uint16_t *used_event(const struct virtqueue *vq)
{
	return &vq->avail->ring[vq->size];
}

static uint16_t *avail_event(const struct virtqueue *vq)
{
	return (uint16_t *)&vq->used->ring[vq->size];
}

/* The used ring (avail_event included) is ours to write: log it for
 * migration, which only sees guest writes through KVM. */
static void mark_used(const struct virtqueue *vq)
{
	guest_memory_mark_dirty(vq->mem, vq->used, VIRTQ_USED_BYTES(vq->size) + 2);
}

static int fail(struct virtqueue *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct virtqueue *vq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vq->error, sizeof(vq->error), fmt, ap);
	va_end(ap);
	vq->broken = true;
	return -1;
}

/* Map a ring part: aligned, and entirely inside one RAM region. */
static void *map_ring(struct virtqueue *vq, const char *what, uint64_t gpa,
		      uint64_t len, uint64_t align)
{
	void *p;

	if (gpa & (align - 1)) {
		fail(vq, "%s ring at 0x%llx is not %llu-byte aligned", what,
		     (unsigned long long)gpa, (unsigned long long)align);
		return NULL;
	}
	p = gpa_to_hva(vq->mem, gpa, len);
	if (!p)
		fail(vq, "%s ring 0x%llx+0x%llx is outside guest RAM", what,
		     (unsigned long long)gpa, (unsigned long long)len);
	return p;
}

int virtqueue_setup(struct virtqueue *vq, const struct guest_memory *mem,
		    uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
		    bool indirect, bool event_idx)
{
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->size = size;
	vq->indirect = indirect;
	vq->event_idx = event_idx;
	vq->max_chain_bytes = UINT32_MAX;
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return fail(vq, "queue size %u is not a power of two up to %u",
			    size, VIRTQ_MAX_SIZE);
	vq->desc = map_ring(vq, "descriptor", desc, VIRTQ_DESC_BYTES(size), 16);
	if (vq->desc)
		vq->avail = map_ring(vq, "available", avail,
				     VIRTQ_AVAIL_BYTES(size), 2);
	if (vq->avail)
		vq->used = map_ring(vq, "used", used, VIRTQ_USED_BYTES(size), 4);
	if (!vq->used) {
		vq->desc = NULL;
		vq->avail = NULL;
		return -1;
	}
	/* A fresh queue starts at index 0 on both sides; the used ring is
	 * ours, so don't trust whatever the guest left in it. */
	__atomic_store_n(&vq->used->flags, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vq->used->idx, 0, __ATOMIC_RELEASE);
	return 0;
}

void virtqueue_clear(struct virtqueue *vq)
{
	memset(vq, 0, sizeof(*vq));
}

/*
 * Fetch a descriptor exactly once: the guest may rewrite it while we look,
 * and the compiler must not re-read guest memory in place of the copy.
 */
static void read_desc(const struct virtq_desc *src, struct virtq_desc *d)
{
	memcpy(d, src, sizeof(*d));
	__asm__ __volatile__("" ::: "memory");
}

/* Walk state: the table being followed (ring or one indirect table). */
struct walk {
	const struct virtq_desc *table;
	uint32_t entries;
	bool in_indirect;
};

static int enter_indirect(struct virtqueue *vq, struct walk *w,
			  const struct virtq_desc *d, unsigned seen)
{
	if (!vq->indirect)
		return fail(vq, "indirect descriptor but VIRTIO_F_INDIRECT_DESC "
			    "was not negotiated");
	if (w->in_indirect)
		return fail(vq, "nested indirect descriptor table");
	if (seen > 1 || (d->flags & VIRTQ_DESC_F_NEXT))
		return fail(vq, "indirect descriptor chained with others");
	if (d->len == 0 || d->len % sizeof(struct virtq_desc))
		return fail(vq, "indirect table length %u is not a multiple of 16",
			    d->len);
	if (d->len / sizeof(struct virtq_desc) > VIRTQ_MAX_SIZE)
		return fail(vq, "indirect table of %zu entries is too long",
			    d->len / sizeof(struct virtq_desc));
	w->table = gpa_to_hva(vq->mem, d->addr, d->len);
	if (!w->table)
		return fail(vq, "indirect table 0x%llx+0x%x is outside guest RAM",
			    (unsigned long long)d->addr, d->len);
	w->entries = d->len / sizeof(struct virtq_desc);
	w->in_indirect = true;
	return 0;
}

/* Record one buffer of the chain in e. */
static int add_segment(struct virtqueue *vq, struct virtq_elem *e,
		       const struct virtq_desc *d)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	uint64_t total = (uint64_t)e->out_bytes + e->in_bytes + d->len;
	void *hva;

	if (!writable && e->in_num)
		return fail(vq, "device-readable buffer after a device-writable one");
	if (total > vq->max_chain_bytes)
		return fail(vq, "chain longer than %u bytes", vq->max_chain_bytes);
	if (d->len == 0)
		return 0;
	if (e->out_num + e->in_num == e->max_iov)
		return fail(vq, "chain has more than %u buffers", e->max_iov);
	hva = gpa_to_hva(vq->mem, d->addr, d->len);
	if (!hva)
		return fail(vq, "buffer 0x%llx+0x%x is outside guest RAM",
			    (unsigned long long)d->addr, d->len);
	e->iov[e->out_num + e->in_num] = (struct iovec){ hva, d->len };
	if (writable) {
		e->in_num++;
		e->in_bytes += d->len;
	} else {
		e->out_num++;
		e->out_bytes += d->len;
	}
	return 0;
}

/* Follow the chain from head; each table may be walked at most once
 * through, so a loop shows up as too many descriptors. */
static int walk_chain(struct virtqueue *vq, struct virtq_elem *e, uint16_t head)
{
	struct walk w = { vq->desc, vq->size, false };
	uint32_t idx = head, seen = 0;
	struct virtq_desc d;

	for (;;) {
		if (idx >= w.entries)
			return fail(vq, "descriptor index %u out of range (%u)",
				    idx, w.entries);
		if (++seen > w.entries)
			return fail(vq, "descriptor chain loops or exceeds %u entries",
				    w.entries);
		read_desc(&w.table[idx], &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (enter_indirect(vq, &w, &d, seen) < 0)
				return -1;
			idx = 0;
			seen = 0;
			continue;
		}
		if (add_segment(vq, e, &d) < 0)
			return -1;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

int virtqueue_pop(struct virtqueue *vq, struct virtq_elem *e)
{
	uint16_t avail_idx, head;

	if (vq->broken || !vq->avail)
		return -1;
	avail_idx = load16_acquire(&vq->avail->idx);
	if (avail_idx == vq->last_avail) {
		if (!vq->event_idx || vq->notify_off)
			return 0;
		/* Ask for a kick on the next buffer, then look once more so a
		 * buffer added before the driver saw avail_event is not missed. */
		__atomic_store_n(avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
		mark_used(vq);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = load16_acquire(&vq->avail->idx);
		if (avail_idx == vq->last_avail)
			return 0;
	}
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return fail(vq, "available index jumped from %u to %u (queue size %u)",
			    vq->last_avail, avail_idx, vq->size);
	head = load16(&vq->avail->ring[vq->last_avail & (vq->size - 1)]);
	e->head = head;
	e->out_num = e->in_num = 0;
	e->out_bytes = e->in_bytes = 0;
	if (walk_chain(vq, e, head) < 0)
		return -1;
	vq->last_avail++;
	if (vq->event_idx && !vq->notify_off) {
		__atomic_store_n(avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
		mark_used(vq);
	}
	return 1;
}

void virtqueue_set_notify(struct virtqueue *vq, bool on)
{
	if (!vq->used || vq->notify_off == !on)
		return;
	vq->notify_off = !on;
	if (vq->event_idx) {
		/* Off: avail_event stays where it is, behind what the driver
		 * adds, so the driver does not kick again until it is moved. */
		if (on)
			__atomic_store_n(avail_event(vq), vq->last_avail,
					 __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&vq->used->flags,
				 (uint16_t)(on ? 0 : VIRTQ_USED_F_NO_NOTIFY),
				 __ATOMIC_RELAXED);
	}
	mark_used(vq);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void virtqueue_fill(struct virtqueue *vq, unsigned offset, uint16_t head,
		    uint32_t written)
{
	struct virtq_used_elem *u;

	if (!vq->used)
		return;
	u = &vq->used->ring[(uint16_t)(vq->used_idx + offset) & (vq->size - 1)];
	__atomic_store_n(&u->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&u->len, written, __ATOMIC_RELAXED);
}

void virtqueue_flush(struct virtqueue *vq, unsigned count)
{
	if (!vq->used)
		return;
	vq->used_idx = (uint16_t)(vq->used_idx + count);
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
	mark_used(vq);
}

void virtqueue_push(struct virtqueue *vq, uint16_t head, uint32_t written)
{
	virtqueue_fill(vq, 0, head, written);
	virtqueue_flush(vq, 1);
}

bool virtqueue_should_notify(struct virtqueue *vq)
{
	uint16_t old, event;
	bool valid;

	if (!vq->used)
		return false;
	/* Our used->idx store must be visible before we read the driver's
	 * suppression state, or both sides may decide not to act. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(load16(&vq->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	old = vq->signalled_used;
	valid = vq->signalled_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	event = load16(used_event(vq));
	/* Interrupt if used_event lies in (old, new]: virtio 2.7.10. */
	return (uint16_t)(vq->used_idx - event - 1) < (uint16_t)(vq->used_idx - old);
}

bool virtqueue_has_buffers(struct virtqueue *vq)
{
	if (vq->broken || !vq->avail)
		return false;
	return load16_acquire(&vq->avail->idx) != vq->last_avail;
}

size_t virtq_iov_to_buf(const struct iovec *iov, unsigned n, void *buf,
			size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t chunk = iov[i].iov_len < len - done ? iov[i].iov_len
							   : len - done;

		memcpy((uint8_t *)buf + done, iov[i].iov_base, chunk);
		done += chunk;
	}
	return done;
}

size_t virtq_buf_to_iov(const struct iovec *iov, unsigned n, const void *buf,
			size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t chunk = iov[i].iov_len < len - done ? iov[i].iov_len
							   : len - done;

		memcpy(iov[i].iov_base, (const uint8_t *)buf + done, chunk);
		done += chunk;
	}
	return done;
}
