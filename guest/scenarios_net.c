/*
 * Network scenarios on virtio-net:
 *
 *   net-echo    answer ARP and ICMP echo, echo UDP datagrams on port= (7)
 *               back to their sender until one says "quit" (or count=
 *               datagrams, or timeout= seconds)
 *   net-stream  count= datagrams of size= bytes to or from peer=IP:PORT
 *               (dir=tx, the default: guest -> host; dir=rx: host ->
 *               guest, verified here), with throughput
 *   net-bad     hostile descriptor chains; the device must say
 *               NEEDS_RESET each time and work again after a reset
 *
 * Common: ip=A.B.C.D/N (10.0.0.2/24), csum=0 to leave checksum offload
 * off.  See net_stream.h for the stream format.
 */
#include "guest/bootinfo.h"
#include "guest/net_scenario.h"
#include "guest/net_stack.h"
#include "guest/net_stream.h"
#include "guest/scenario.h"
#include "guest/string.h"
#include "guest/timer.h"
#include "guest/user.h"
#include "guest/virtio_net.h"
#include "guest/x86.h"


static struct net_if nif;
static uint8_t txframe[VNET_BUF_SIZE];

struct counters {
	unsigned rx, arp, icmp, udp, bad, other;
	bool quit;
};
static struct counters cnt;

uint64_t cmdline_uint(const char *key, uint64_t dflt)
{
	char buf[24];
	uint64_t v = 0;

	if (!cmdline_value(key, buf, sizeof(buf)) || !buf[0])
		return dflt;
	for (const char *p = buf; *p; p++) {
		if (*p < '0' || *p > '9')
			return dflt;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}

static uint64_t elapsed_us(uint64_t from, uint64_t to)
{
	return tsc_hz() ? (to - from) * US_PER_S / tsc_hz() : 0;
}

bool net_setup(uint64_t extra)
{
	char buf[32];
	uint32_t ip = 0x0a000002;
	unsigned prefix = 24;
	uint64_t features = VNET_F_CSUM | VNET_F_GUEST_CSUM;
	const uint8_t *m;

	if (cmdline_value("ip", buf, sizeof(buf)) && !net_parse_ip(buf, &ip, &prefix)) {
		result(false, "reason=bad-ip");
		return false;
	}
	if (cmdline_uint("csum", 1) == 0)
		features = 0;
	else if (cmdline_uint("gso", 1))
		features |= extra;
	timer_init();
	if (!vnet_init(features)) {
		result(false, "reason=no-virtio-net");
		return false;
	}
	net_if_init(&nif, vnet.mac, ip, prefix);
	m = vnet.mac;
	printk("xenon-guest: net mac=%02x:%02x:%02x:%02x:%02x:%02x "
	       "ip=%u.%u.%u.%u/%u features=0x%lx\n", m[0], m[1], m[2], m[3],
	       m[4], m[5], ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255,
	       prefix, (unsigned long)vnet.vd.features);
	return true;
}

static void send_frame(const struct vnet_hdr *h, uint32_t len)
{
	if (len && !vnet_send(h, txframe, len))
		cnt.bad++;
}

/* Echo a UDP datagram; a partial checksum stays partial (the device
 * completes it), or becomes "none" if we cannot ask for that. */
static void udp_echo(const struct vnet_hdr *in, const struct pkt *p)
{
	struct vnet_hdr h = { 0 };
	uint32_t len = net_udp_echo(p, &nif, txframe);

	if (in->flags & VNET_HDR_F_NEEDS_CSUM) {
		if (vnet_has(VNET_F_CSUM)) {
			h.flags = VNET_HDR_F_NEEDS_CSUM;
			h.csum_start = in->csum_start;
			h.csum_offset = in->csum_offset;
		} else if (in->csum_start + in->csum_offset + 2u <= len) {
			put16(txframe + in->csum_start + in->csum_offset, 0);
		}
	}
	send_frame(&h, len);
}

/* One received buffer (header first) through the stack, in ring 0. */
static void handle_frame(const uint8_t *buf, uint32_t len, uint16_t echo_port)
{
	const struct vnet_hdr *h = (const struct vnet_hdr *)buf;
	struct pkt p;

	cnt.rx++;
	if (len < VNET_HDR_LEN) {
		cnt.bad++;
		return;
	}
	switch (net_classify(&nif, buf + VNET_HDR_LEN, len - VNET_HDR_LEN, &p)) {
	case PKT_ARP_REQUEST:
		cnt.arp++;
		send_frame(NULL, net_arp_reply(&nif, &p, txframe));
		break;
	case PKT_ICMP_ECHO:
		cnt.icmp++;
		send_frame(NULL, net_icmp_echo_reply(&p, &nif, txframe));
		break;
	case PKT_UDP:
		if (!echo_port || p.dport != echo_port)
			break;
		cnt.udp++;
		if (p.payload_len >= 4 && !memcmp(p.payload, "quit", 4))
			cnt.quit = true;
		udp_echo(h, &p);
		break;
	case PKT_BAD:
		cnt.bad++;
		break;
	default:
		cnt.other++;
		break;
	}
}

/* Everything received so far; true if there was anything. */
static bool poll_rx(uint16_t echo_port)
{
	uint32_t len;
	uint16_t id;
	uint8_t *buf;
	bool any = false;

	while ((buf = vr_rx_next(&vnet.rx, &len, &id))) {
		handle_frame(buf, len, echo_port);
		vr_rx_repost(&vnet.rx, id);
		any = true;
	}
	if (any)
		vnet_kick(&vnet.rx);
	return any;
}

/* Until every frame queued has left (so nothing is lost at power-off). */
static bool drain_tx(uint64_t deadline)
{
	for (;;) {
		vr_tx_reclaim(&vnet.tx);
		if (vnet.tx.nfree == vnet.tx.nbufs)
			return true;
		if (rdtsc() >= deadline)
			return false;
		vnet_wait_tx(deadline);
	}
}

void scn_net_echo(void)
{
	uint16_t port = (uint16_t)cmdline_uint("port", 7);
	uint64_t count = cmdline_uint("count", 0);
	uint64_t deadline;

	if (!net_setup(0))
		return;
	deadline = tsc_after_us(cmdline_uint("timeout", 60) * US_PER_S);
	printk("xenon-guest: net ready\n");
	while (!cnt.quit && (!count || cnt.udp < count) && rdtsc() < deadline)
		if (!poll_rx(port))
			vnet_wait_rx(deadline);
	drain_tx(tsc_after_us(US_PER_S));
	result(cnt.quit || (count && cnt.udp >= count),
	       "rx=%u arp=%u icmp=%u udp=%u bad=%u%s", cnt.rx, cnt.arp,
	       cnt.icmp, cnt.udp, cnt.bad,
	       cnt.quit || (count && cnt.udp >= count) ? "" : " reason=timeout");
}

/* ---- streams --------------------------------------------------------------- */

/* ARP for the peer: ask every 200 ms, answer whatever comes meanwhile. */
bool net_resolve(struct peer *p, uint64_t deadline)
{
	while (!net_arp_lookup(&nif, p->ip, p->mac)) {
		uint64_t retry = tsc_after_us(200000);

		if (rdtsc() >= deadline)
			return false;
		send_frame(NULL, net_arp_request(&nif, p->ip, txframe));
		while (!net_arp_lookup(&nif, p->ip, p->mac) && rdtsc() < retry)
			if (!poll_rx(0))
				vnet_wait_rx(retry);
	}
	return true;
}

/* "12.34" MB/s from bytes and microseconds, without floating point. */
static void print_rate(char *out, size_t size, uint64_t bytes, uint64_t us)
{
	uint64_t centi = us ? bytes * 100 / us : 0;

	snprintf(out, size, "%lu.%02lu", (unsigned long)(centi / 100),
		 (unsigned long)(centi % 100));
}

static uint32_t small_udp(const struct peer *p, uint32_t magic, uint32_t arg)
{
	uint32_t hl = net_udp_headers(&nif, txframe, p->mac, p->ip, p->port,
				      p->port, STREAM_HDR, false);

	put32(txframe + hl, magic);
	put32(txframe + hl + 4, arg);
	put32(txframe + hl + 8, 0);
	return hl + STREAM_HDR;
}

static struct stream_tx stx;
static struct stream_rx srx;

/* With UDP segmentation offload, frames of up to 63000 bytes of
 * datagrams from 64 KiB buffers; else a datagram per 2 KiB buffer. */
static void stream_tx_setup(const struct peer *p, uint32_t count, uint32_t size)
{
	memset(&stx, 0, sizeof(stx));
	stx.ring = &vnet.tx;
	stx.nif = &nif;
	memcpy(stx.dst_mac, p->mac, ETH_ALEN);
	stx.dst_ip = p->ip;
	stx.port = p->port;
	stx.size = size;
	stx.count = count;
	stx.partial = vnet_has(VNET_F_CSUM);
	stx.segs = 1;
	drain_tx(tsc_after_us(US_PER_S));
	if (stx.partial && vnet_has(VNET_F_HOST_USO) &&
	    STREAM_GSO_BYTES / size > 1 &&
	    vnet_tx_big_buffers(64, STREAM_GSO_BUF))
		stx.segs = STREAM_GSO_BYTES / size;
}

static void stream_send(const struct peer *p, uint32_t count, uint32_t size,
			uint64_t deadline)
{
	uint64_t start, end;
	char rate[24];

	stream_tx_setup(p, count, size);
	stx.spin = tsc_hz() / 20000;   /* 50 us */
	user_call(stream_tx_prepare, &stx);
	start = rdtsc();
	while (stx.seq < count && rdtsc() < deadline) {
		user_call(stream_tx_burst, &stx);
		if (stx.seq < count)
			vnet_wait_tx(deadline);  /* the device is behind: sleep */
	}
	drain_tx(deadline);
	end = rdtsc();
	for (int i = 0; i < 3; i++) {
		send_frame(NULL, small_udp(p, STREAM_END, stx.seq));
		udelay(10000);
	}
	drain_tx(tsc_after_us(US_PER_S));
	print_rate(rate, sizeof(rate), (uint64_t)stx.seq * size,
		   elapsed_us(start, end));
	result(stx.seq == count, "dir=tx pkts=%u size=%u frames=%lu gso=%u kicks=%u "
	       "us=%lu mbs=%s%s", stx.seq, size, (unsigned long)stx.frames, stx.segs,
	       stx.kicks,
	       (unsigned long)elapsed_us(start, end), rate,
	       stx.seq == count ? "" : " reason=timeout");
}

static void stream_receive(const struct peer *p, uint64_t deadline)
{
	uint64_t hello = 0;
	unsigned waits = 0;
	char rate[24];
	bool ok;

	memset(&srx, 0, sizeof(srx));
	srx.ring = &vnet.rx;
	srx.spin = tsc_hz() / 20000;   /* 50 us */
	srx.ip = nif.ip;
	srx.port = p->port;
	while (!srx.end && rdtsc() < deadline) {
		uint64_t n;

		/* Say we are ready until the first datagram shows up. */
		if (!srx.got && rdtsc() >= hello) {
			send_frame(NULL, small_udp(p, STREAM_READY, 0));
			hello = tsc_after_us(300000);
		}
		n = user_call(stream_rx_burst, &srx);
		if (srx.slow_buf) {
			handle_frame(srx.slow_buf, srx.slow_len, 0);
			vr_rx_repost(&vnet.rx, srx.slow_id);
			srx.slow_buf = NULL;
			n++;
		}
		vnet_kick(&vnet.rx);
		if (!n) {
			vnet_wait_rx(srx.got ? deadline : hello);
			waits++;
		}
	}
	print_rate(rate, sizeof(rate), srx.bytes,
		   elapsed_us(srx.first_tsc, srx.last_tsc));
	ok = srx.end && srx.got && !srx.bad;
	result(ok, "dir=rx got=%u sent=%u lost=%u reordered=%u bad=%u frames=%lu "
	       "gso-frames=%lu kicks=%u waits=%u irqs=%u us=%lu mbs=%s%s", srx.got,
	       srx.end_count, srx.end_count - srx.got, srx.reordered, srx.bad,
	       (unsigned long)srx.frames, (unsigned long)srx.big_frames, srx.kicks,
	       waits, vnet.rx.irqs,
	       (unsigned long)elapsed_us(srx.first_tsc, srx.last_tsc), rate,
	       ok ? "" : srx.end ? " reason=bad-data" : " reason=timeout");
}

void scn_net_stream(void)
{
	char buf[32];
	struct peer p;
	uint32_t count = (uint32_t)cmdline_uint("count", 1000);
	uint32_t size = (uint32_t)cmdline_uint("size", 1400);
	uint64_t deadline;
	bool rx;

	if (!cmdline_value("peer", buf, sizeof(buf)) ||
	    !net_parse_ip_port(buf, &p.ip, &p.port)) {
		result(false, "reason=need-peer=IP:PORT");
		return;
	}
	if (size < STREAM_HDR || size > STREAM_MAX) {
		result(false, "reason=bad-size max=%u", (unsigned)STREAM_MAX);
		return;
	}
	rx = cmdline_value("dir", buf, sizeof(buf)) && !strcmp(buf, "rx");
	if (!net_setup(rx ? VNET_F_GUEST_USO4 | VNET_F_GUEST_USO6 : VNET_F_HOST_USO))
		return;
	deadline = tsc_after_us(cmdline_uint("timeout", 60) * US_PER_S);
	if (!net_resolve(&p, tsc_after_us(5 * US_PER_S))) {
		result(false, "reason=arp-timeout");
		return;
	}
	printk("xenon-guest: net ready\n");
	if (rx)
		stream_receive(&p, deadline);
	else
		stream_send(&p, count, size, deadline);
}
