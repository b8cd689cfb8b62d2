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

uint64_t stream_tx_burst(void *arg)
{
	struct stream_tx *t = arg;
	uint64_t n = 0;
	uint8_t *buf;
	uint16_t id;

	vr_tx_reclaim(t->ring);
	while (t->seq < t->count && (buf = vr_tx_alloc(t->ring, &id))) {
		memcpy(buf, t->tmpl, sizeof(t->tmpl));
		stream_fill(buf + sizeof(t->tmpl), t->size, t->seq,
			    t->crc[t->seq & 255]);
		vr_tx_post(t->ring, id, (uint32_t)sizeof(t->tmpl) + t->size);
		t->seq++;
		n++;
	}
	return n;
}

/* A stream datagram for us?  Fixed offsets: the host sends plain IPv4
 * without options; anything else goes the slow way through ring 0. */
static const uint8_t *stream_payload(const struct stream_rx *r,
				     const uint8_t *f, uint32_t len,
				     uint32_t *plen)
{
	uint32_t ulen;

	if (len < UDP_HDRS + STREAM_HDR || get16(f + 12) != ETH_P_IP ||
	    f[14] != 0x45 || f[23] != IPPROTO_UDP || get32(f + 30) != r->ip ||
	    get16(f + 36) != r->port)
		return NULL;
	ulen = get16(f + 38);
	if (ulen < UDP_HLEN + STREAM_HDR || ulen > len - ETH_HLEN - IP_HLEN)
		return NULL;
	*plen = ulen - UDP_HLEN;
	return f + UDP_HDRS;
}

static void check_data(struct stream_rx *r, const uint8_t *p, uint32_t len)
{
	uint32_t seq = get32(p + 4);

	if (get32(p + 8) != crc32(0, p + STREAM_HDR, len - STREAM_HDR) ||
	    memcmp(p + STREAM_HDR, stream_pattern() + (seq & 255),
		   len - STREAM_HDR)) {
		r->bad++;
		return;
	}
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

uint64_t stream_rx_burst(void *arg)
{
	struct stream_rx *r = arg;
	uint64_t n = 0;
	uint32_t len, plen;
	uint16_t id;
	uint8_t *buf;

	while (!r->end && (buf = vr_rx_next(r->ring, &len, &id))) {
		const uint8_t *p = len > VNET_HDR_LEN ?
			stream_payload(r, buf + VNET_HDR_LEN, len - VNET_HDR_LEN,
				       &plen) : NULL;

		if (!p || (get32(p) != STREAM_DATA && get32(p) != STREAM_END)) {
			r->slow_buf = buf;
			r->slow_len = len;
			r->slow_id = id;
			return n;
		}
		if (get32(p) == STREAM_END) {
			r->end = true;
			r->end_count = get32(p + 4);
		} else {
			check_data(r, p, plen);
		}
		vr_rx_repost(r->ring, id);
		n++;
	}
	return n;
}
