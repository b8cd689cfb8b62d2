/* virtio-net driver (see virtio_net.h for the design). */
#include "guest/virtio_net.h"

#include "guest/memory.h"
#include "guest/string.h"
#include "guest/timer.h"
#include "guest/x86.h"

#define RXQ 0
#define TXQ 1
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct vnet vnet;
void (*vnet_before_driver_ok)(void);

static void rx_interrupt(void *ctx)
{
	(void)ctx;
	vnet.rx.irqs++;
}

static void tx_interrupt(void *ctx)
{
	(void)ctx;
	vnet.tx.irqs++;
}

/* Descriptor i <-> buffer i, for good. */
static bool ring_setup(struct vnet_ring *r, bool writable)
{
	unsigned n = r->q.size;

	r->bufs = page_alloc(n * VNET_BUF_SIZE / PAGE_SIZE);
	if (!r->bufs)
		return false;
	r->stride = VNET_BUF_SIZE;
	r->nbufs = (uint16_t)n;
	for (unsigned i = 0; i < n; i++) {
		r->q.desc[i].addr = (uint64_t)(r->bufs + i * VNET_BUF_SIZE);
		r->q.desc[i].len = VNET_BUF_SIZE;
		r->q.desc[i].flags = writable ? VRING_DESC_F_WRITE : 0;
		r->q.desc[i].next = 0;
	}
	r->avail = r->used = r->kicked = 0;
	r->nfree = 0;
	r->irqs = 0;
	r->event_idx = vnet_has(VNET_F_EVENT_IDX);
	vr_irq_quiet(r);
	if (writable) {
		for (unsigned i = 0; i < n; i++)
			r->q.avail->ring[i] = (uint16_t)i;
		r->avail = (uint16_t)n;
		barrier();
		r->q.avail->idx = r->avail;
	} else {
		for (unsigned i = 0; i < n; i++)
			r->free[r->nfree++] = (uint16_t)(n - 1 - i);
	}
	return true;
}

static void read_mac(void)
{
	for (unsigned i = 0; i < 6; i++)
		vnet.mac[i] = virtio_config_read8(&vnet.vd, i);
}

bool vnet_init(uint64_t features)
{
	vnet.present = false;
	if (!virtio_pci_probe(VIRTIO_ID_NET, 0, &vnet.vd))
		return false;
	if (!virtio_negotiate(&vnet.vd, features | VNET_F_MAC | VNET_F_STATUS |
			      VNET_F_MRG_RXBUF | VNET_F_EVENT_IDX))
		return false;
	if (!virtio_queue_init(&vnet.vd, &vnet.rx.q, RXQ, VNET_QSIZE,
			       rx_interrupt, NULL) ||
	    !virtio_queue_init(&vnet.vd, &vnet.tx.q, TXQ, VNET_QSIZE,
			       tx_interrupt, NULL) ||
	    !ring_setup(&vnet.rx, true) || !ring_setup(&vnet.tx, false)) {
		virtio_fail(&vnet.vd);
		return false;
	}
	read_mac();
	if (vnet_before_driver_ok)
		vnet_before_driver_ok();
	virtio_driver_ok(&vnet.vd);
	vnet.present = true;
	return true;
}

bool vnet_tx_big_buffers(unsigned n, uint32_t size)
{
	struct vnet_ring *r = &vnet.tx;
	uint8_t *mem;

	vr_tx_reclaim(r);
	if (n > r->q.size || size % PAGE_SIZE || r->nfree != r->nbufs)
		return false;
	mem = page_alloc(n * size / PAGE_SIZE);
	if (!mem)
		return false;
	r->bufs = mem;
	r->stride = size;
	r->nbufs = (uint16_t)n;
	r->nfree = 0;
	for (unsigned i = 0; i < n; i++) {
		r->q.desc[i].addr = (uint64_t)(mem + i * size);
		r->free[r->nfree++] = (uint16_t)(n - 1 - i);
	}
	return true;
}

bool vnet_has(uint64_t feature)
{
	return (vnet.vd.features & feature) == feature;
}

uint8_t vnet_status(void)
{
	return virtio_status(&vnet.vd);
}

/* ---- rings ------------------------------------------------------------------ */

static uint16_t used_idx(const struct vnet_ring *r)
{
	return *(volatile uint16_t *)&r->q.used->idx;
}

uint8_t *vr_rx_next(struct vnet_ring *r, uint32_t *len, uint16_t *id)
{
	struct vring_used_elem e;

	if (used_idx(r) == r->used)
		return NULL;
	barrier();  /* the entry after the index that published it */
	e = r->q.used->ring[r->used & (r->q.size - 1)];
	r->used++;
	if (e.id >= r->q.size)
		return NULL;  /* a broken device */
	*id = (uint16_t)e.id;
	*len = e.len < r->stride ? e.len : r->stride;
	return r->bufs + e.id * r->stride;
}

void vr_rx_repost(struct vnet_ring *r, uint16_t id)
{
	r->q.avail->ring[r->avail & (r->q.size - 1)] = id;
	r->avail++;
	barrier();
	r->q.avail->idx = r->avail;
}

void vr_tx_reclaim(struct vnet_ring *r)
{
	uint16_t end = used_idx(r);

	barrier();
	while (r->used != end) {
		uint32_t id = r->q.used->ring[r->used & (r->q.size - 1)].id;

		r->used++;
		if (id < r->q.size && r->nfree < r->q.size)
			r->free[r->nfree++] = (uint16_t)id;
	}
}

uint8_t *vr_tx_alloc(struct vnet_ring *r, uint16_t *id)
{
	if (!r->nfree)
		vr_tx_reclaim(r);
	if (!r->nfree)
		return NULL;
	*id = r->free[--r->nfree];
	return r->bufs + *id * r->stride;
}

void vr_tx_post(struct vnet_ring *r, uint16_t id, uint32_t len)
{
	r->q.desc[id].len = len;
	r->q.avail->ring[r->avail & (r->q.size - 1)] = id;
	r->avail++;
	barrier();
	r->q.avail->idx = r->avail;
}

/* avail_event follows the used ring, used_event the avail ring. */
static volatile uint16_t *avail_event(const struct vnet_ring *r)
{
	return (volatile uint16_t *)&r->q.used->ring[r->q.size];
}

static volatile uint16_t *used_event(const struct vnet_ring *r)
{
	return (volatile uint16_t *)&r->q.avail->ring[r->q.size];
}

bool vr_kick_needed(const struct vnet_ring *r)
{
	uint16_t event;

	if (r->avail == r->kicked)
		return false;
	if (!r->event_idx)
		return true;
	full_fence();  /* our avail->idx before the device's avail_event */
	event = *avail_event(r);
	/* virtio 2.7.10: kick if event lies in [kicked, avail). */
	return (uint16_t)(r->avail - event - 1) < (uint16_t)(r->avail - r->kicked);
}

void vr_irq_arm(struct vnet_ring *r)
{
	if (r->event_idx)
		*used_event(r) = r->used;
	else
		r->q.avail->flags = 0;
}

void vr_irq_quiet(struct vnet_ring *r)
{
	/* Half the index space ahead: never reached by one queue's worth. */
	if (r->event_idx)
		*used_event(r) = (uint16_t)(r->used + 0x8000);
	else
		r->q.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
}

/* ---- ring 0 ---------------------------------------------------------------------- */

bool vr_kick(struct vnet_ring *r)
{
	bool need = vr_kick_needed(r);

	if (need)
		virtq_kick(&r->q);
	r->kicked = r->avail;
	return need;
}

void vnet_kick(struct vnet_ring *r)
{
	vr_kick(r);
}

void vnet_kick_now(struct vnet_ring *r)
{
	virtq_kick(&r->q);
	r->kicked = r->avail;
}

/* Ask for interrupts, look once more (a frame may have come before the
 * device saw the request), halt, and quiet them again. */
static void wait_ring(struct vnet_ring *r, uint64_t deadline)
{
	unsigned seen = r->irqs;

	irq_disable();
	vr_irq_arm(r);
	full_fence();
	while (r->irqs == seen && used_idx(r) == r->used && rdtsc() < deadline)
		halt_until(deadline);
	vr_irq_quiet(r);
}

void vnet_wait_rx(uint64_t deadline)
{
	wait_ring(&vnet.rx, deadline);
}

void vnet_wait_tx(uint64_t deadline)
{
	wait_ring(&vnet.tx, deadline);
}

bool vnet_send(const struct vnet_hdr *hdr, const void *frame, uint32_t len)
{
	uint64_t deadline = tsc_after_us(1000000);
	uint16_t id;
	uint8_t *buf;

	if (len > vnet.tx.stride - VNET_HDR_LEN)
		return false;
	while (!(buf = vr_tx_alloc(&vnet.tx, &id))) {
		if (rdtsc() >= deadline)
			return false;
		vnet_wait_tx(deadline);
	}
	if (hdr)
		memcpy(buf, hdr, VNET_HDR_LEN);
	else
		memset(buf, 0, VNET_HDR_LEN);
	memcpy(buf + VNET_HDR_LEN, frame, len);
	vr_tx_post(&vnet.tx, id, VNET_HDR_LEN + len);
	vnet_kick(&vnet.tx);
	return true;
}
