/* UDP stream bursts, run in ring 3 (see net_stream.h). */
#include "guest/net_stream.h"

#include "guest/crc32.h"
#include "guest/memory.h"
#include "guest/string.h"
#include "guest/x86.h"

static uint8_t pattern[STREAM_MAX + 256] NOINIT;
static bool pattern_ready;

const uint8_t *stream_pattern(void)
{
	if (!pattern_ready) {
		for (uint32_t i = 0; i < sizeof(pattern); i++)
			pattern[i] = (uint8_t)(i * 13 + 7);
		pattern_ready = true;
	}
	return pattern;
}

void stream_fill(uint8_t *p, uint32_t size, uint32_t seq, uint32_t crc)
{
	put32(p, STREAM_DATA);
	put32(p + 4, seq);
	put32(p + 8, crc);
	memcpy(p + STREAM_HDR, stream_pattern() + (seq & 255), size - STREAM_HDR);
}

/* The data part depends on seq & 255 only: 256 CRCs cover every frame. */
uint64_t stream_tx_prepare(void *arg)
{
	struct stream_tx *t = arg;
	const uint8_t *pat = stream_pattern();

	for (uint32_t i = 0; i < 256; i++)
		t->crc[i] = crc32(0, pat + i, t->size - STREAM_HDR);
	return 0;
}

/* One frame of k datagrams from seq on, at buf (vnet header first). */
static uint32_t tx_frame(struct stream_tx *t, uint8_t *buf, uint32_t k)
{
	struct vnet_hdr *h = (struct vnet_hdr *)buf;
	uint8_t *pl = buf + VNET_HDR_LEN + UDP_HDRS;

	memset(h, 0, sizeof(*h));
	if (t->partial) {
		h->flags = VNET_HDR_F_NEEDS_CSUM;
		h->csum_start = ETH_HLEN + IP_HLEN;
		h->csum_offset = 6;
	}
	if (k > 1) {
		h->gso_type = VNET_GSO_UDP_L4;
		h->hdr_len = UDP_HDRS;
		h->gso_size = (uint16_t)t->size;
	}
	net_udp_headers(t->nif, buf + VNET_HDR_LEN, t->dst_mac, t->dst_ip,
			t->port, t->port, k * t->size, t->partial);
	for (uint32_t j = 0; j < k; j++) {
		uint32_t seq = t->seq + j;

		stream_fill(pl + j * t->size, t->size, seq, t->crc[seq & 255]);
	}
	return VNET_HDR_LEN + UDP_HDRS + k * t->size;
}

/* Idle polling: true while the budget that started at *since lasts. */
static bool keep_polling(uint64_t *since, uint64_t spin)
{
	uint64_t now = rdtsc();

	if (!*since)
		*since = now;
	if (now - *since > spin)
		return false;
	cpu_relax();
	return true;
}

uint64_t stream_tx_burst(void *arg)
{
	struct stream_tx *t = arg;
	uint64_t n = 0, idle = 0;

	while (t->seq < t->count) {
		uint64_t added = 0;
		uint8_t *buf;
		uint16_t id;

		vr_tx_reclaim(t->ring);
		while (t->seq < t->count && (buf = vr_tx_alloc(t->ring, &id))) {
			uint32_t k = t->count - t->seq < t->segs ?
				     t->count - t->seq : t->segs;

			vr_tx_post(t->ring, id, tx_frame(t, buf, k));
			t->seq += k;
			t->frames++;
			added++;
		}
		n += added;
		t->kicks += vr_kick(t->ring);
		if (added)
			idle = 0;
		else if (!keep_polling(&idle, t->spin))
			break;
	}
	return n;
}

/* A stream frame for us?  Fixed offsets: the host sends plain IPv4
 * without options; anything else goes the slow way through ring 0.
 * Returns the UDP payload (*plen bytes: every datagram of a segmented
 * frame together). */
static const uint8_t *stream_payload(const struct stream_rx *r,
				     const uint8_t *f, uint32_t len,
				     uint32_t *plen)
{
	if (len < UDP_HDRS + STREAM_HDR || get16(f + 12) != ETH_P_IP ||
	    f[14] != 0x45 || f[23] != IPPROTO_UDP || get32(f + 30) != r->ip ||
	    get16(f + 36) != r->port)
		return NULL;
	*plen = len - UDP_HDRS;
	return f + UDP_HDRS;
}

static void count_data(struct stream_rx *r, uint32_t seq, uint32_t len)
{
	if (seq < r->expect) {
		r->reordered++;
	} else {
		r->lost += seq - r->expect;
		r->expect = seq + 1;
	}
	r->got++;
	r->bytes += len;
	if (!r->first_tsc)
		r->first_tsc = rdtsc();
	r->last_tsc = rdtsc();
}

/* One datagram's payload p of len bytes. */
static void check_datagram(struct stream_rx *r, const uint8_t *p, uint32_t len)
{
	uint32_t seq;

	if (len < STREAM_HDR) {
		r->bad++;
		return;
	}
	if (get32(p) == STREAM_END) {
		r->end = true;
		r->end_count = get32(p + 4);
		return;
	}
	seq = get32(p + 4);
	if (get32(p) != STREAM_DATA ||
	    get32(p + 8) != crc32(0, p + STREAM_HDR, len - STREAM_HDR) ||
	    memcmp(p + STREAM_HDR, stream_pattern() + (seq & 255),
		   len - STREAM_HDR)) {
		r->bad++;
		return;
	}
	count_data(r, seq, len);
}

/* A whole frame (header first): one datagram, or with UDP segmentation
 * offload many of gso_size bytes each (the last may be shorter). */
static bool check_frame(struct stream_rx *r, const uint8_t *buf, uint32_t len)
{
	const struct vnet_hdr *h = (const struct vnet_hdr *)buf;
	uint32_t plen, seg;
	const uint8_t *p = len > VNET_HDR_LEN ?
		stream_payload(r, buf + VNET_HDR_LEN, len - VNET_HDR_LEN, &plen) : NULL;

	if (!p)
		return false;
	r->frames++;
	if (h->gso_type != VNET_GSO_UDP_L4 || !h->gso_size) {
		/* Trust the UDP length over the frame (Ethernet padding). */
		seg = get16(p - UDP_HLEN + 4) - UDP_HLEN;
		check_datagram(r, p, seg < plen ? seg : plen);
		return true;
	}
	r->big_frames++;
	for (uint32_t off = 0; off < plen; off += h->gso_size)
		check_datagram(r, p + off, plen - off < h->gso_size ?
			       plen - off : h->gso_size);
	return true;
}

/* A frame spanning several receive buffers, put back together. */
static uint8_t scratch[VNET_HDR_LEN + 65536 + 4096] NOINIT;

static const uint8_t *gather(struct stream_rx *r, uint8_t *first,
			     uint32_t len, uint16_t nbuf, uint32_t *total)
{
	uint32_t done = len;
	uint16_t id;
	uint8_t *buf;

	memcpy(scratch, first, len);
	for (uint16_t i = 1; i < nbuf; i++) {
		if (!(buf = vr_rx_next(r->ring, &len, &id)))
			break;  /* the device broke its promise: drop it */
		if (done + len <= sizeof(scratch)) {
			memcpy(scratch + done, buf, len);
			done += len;
		}
		vr_rx_repost(r->ring, id);
	}
	*total = done;
	return scratch;
}

uint64_t stream_rx_burst(void *arg)
{
	struct stream_rx *r = arg;
	uint64_t n = 0, idle = 0;
	uint32_t len;
	uint16_t id;
	uint8_t *buf;

	while (!r->end) {
		if (!(buf = vr_rx_next(r->ring, &len, &id))) {
			r->kicks += vr_kick(r->ring);
			if (!keep_polling(&idle, r->spin))
				break;
			continue;
		}
		idle = 0;
		uint16_t nbuf = len >= VNET_HDR_LEN ?
				((struct vnet_hdr *)buf)->num_buffers : 1;
		const uint8_t *frame = buf;

		if (nbuf > 1) {
			frame = gather(r, buf, len, nbuf, &len);
		} else if (!check_frame(r, buf, len)) {
			/* Not stream data: ring 0 deals with it. */
			r->slow_buf = buf;
			r->slow_len = len;
			r->slow_id = id;
			return n;
		}
		if (nbuf > 1 && !check_frame(r, frame, len))
			r->bad++;
		vr_rx_repost(r->ring, id);
		n++;
	}
	return n;
}
