/* Ethernet, ARP, IPv4, ICMP echo and UDP (see net_stack.h). */
#include "guest/net_stack.h"

#include "guest/string.h"

/* Offsets inside a frame. */
enum {
	ETH_DST = 0, ETH_SRC = 6, ETH_TYPE = 12,
	IP = ETH_HLEN, IP_VER_IHL = IP, IP_TOTLEN = IP + 2, IP_FRAG = IP + 6,
	IP_TTL = IP + 8, IP_PROTO = IP + 9, IP_CSUM = IP + 10, IP_SRC = IP + 12,
	IP_DST = IP + 16,
	ARP_OP = ETH_HLEN + 6, ARP_SHA = ETH_HLEN + 8, ARP_SPA = ETH_HLEN + 14,
	ARP_THA = ETH_HLEN + 18, ARP_TPA = ETH_HLEN + 24,
};

static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void net_if_init(struct net_if *nif, const uint8_t mac[ETH_ALEN],
		 uint32_t ip, unsigned prefix)
{
	memset(nif, 0, sizeof(*nif));
	memcpy(nif->mac, mac, ETH_ALEN);
	nif->ip = ip;
	nif->mask = prefix ? ~0u << (32 - (prefix > 32 ? 32 : prefix)) : 0;
}

static const char *parse_octets(const char *s, uint32_t *ip)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned octet = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			octet = octet * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (!digits || octet > 255 || (i < 3 && *s++ != '.'))
			return NULL;
		v = v << 8 | octet;
	}
	*ip = v;
	return s;
}

static const char *parse_number(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0, digits = 0;

	while (*s >= '0' && *s <= '9' && digits < 6) {
		v = v * 10 + (unsigned)(*s++ - '0');
		digits++;
	}
	if (!digits || v > max)
		return NULL;
	*out = v;
	return s;
}

bool net_parse_ip(const char *s, uint32_t *ip, unsigned *prefix)
{
	s = parse_octets(s, ip);
	if (!s)
		return false;
	if (*s == '/')
		s = parse_number(s + 1, 32, prefix);
	return s && !*s;
}

bool net_parse_ip_port(const char *s, uint32_t *ip, uint16_t *port)
{
	unsigned p;

	s = parse_octets(s, ip);
	if (!s || *s != ':')
		return false;
	s = parse_number(s + 1, 65535, &p);
	if (!s || *s || !p)
		return false;
	*port = (uint16_t)p;
	return true;
}

uint32_t net_sum(uint32_t sum, const void *buf, uint32_t len)
{
	const uint8_t *p = buf;

	for (; len > 1; len -= 2, p += 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)*p << 8;
	return sum;
}

uint16_t net_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ---- ARP ---------------------------------------------------------------------- */

void net_arp_learn(struct net_if *nif, uint32_t ip, const uint8_t *mac)
{
	unsigned slot = nif->arp_next;

	for (unsigned i = 0; i < NET_ARP_SLOTS; i++)
		if (nif->arp[i].ip == ip)
			slot = i;
	if (slot == nif->arp_next)
		nif->arp_next = (nif->arp_next + 1) % NET_ARP_SLOTS;
	nif->arp[slot].ip = ip;
	memcpy(nif->arp[slot].mac, mac, ETH_ALEN);
}

bool net_arp_lookup(const struct net_if *nif, uint32_t ip, uint8_t *mac)
{
	for (unsigned i = 0; i < NET_ARP_SLOTS; i++) {
		if (ip && nif->arp[i].ip == ip) {
			memcpy(mac, nif->arp[i].mac, ETH_ALEN);
			return true;
		}
	}
	return false;
}

static uint32_t arp_frame(const struct net_if *nif, uint8_t *out, uint16_t op,
			  const uint8_t *eth_dst, const uint8_t *tha,
			  uint32_t tpa)
{
	static const uint8_t fixed[8] = { 0, 1, 8, 0, 6, 4, 0, 0 };

	memcpy(out + ETH_DST, eth_dst, ETH_ALEN);
	memcpy(out + ETH_SRC, nif->mac, ETH_ALEN);
	put16(out + ETH_TYPE, ETH_P_ARP);
	memcpy(out + ETH_HLEN, fixed, sizeof(fixed));
	put16(out + ARP_OP, op);
	memcpy(out + ARP_SHA, nif->mac, ETH_ALEN);
	put32(out + ARP_SPA, nif->ip);
	memcpy(out + ARP_THA, tha, ETH_ALEN);
	put32(out + ARP_TPA, tpa);
	return ARP_FRAME_LEN;
}

uint32_t net_arp_reply(const struct net_if *nif, const struct pkt *req,
		       uint8_t *out)
{
	const uint8_t *sha = req->frame + ARP_SHA;

	return arp_frame(nif, out, 2, sha, sha, req->src_ip);
}

uint32_t net_arp_request(const struct net_if *nif, uint32_t target_ip,
			 uint8_t *out)
{
	static const uint8_t zero[ETH_ALEN];

	return arp_frame(nif, out, 1, broadcast, zero, target_ip);
}

static enum pkt_kind classify_arp(struct net_if *nif, const uint8_t *f,
				  uint32_t len, struct pkt *p)
{
	static const uint8_t eth_ipv4[6] = { 0, 1, 8, 0, 6, 4 };
	uint16_t op;

	if (len < ARP_FRAME_LEN || memcmp(f + ETH_HLEN, eth_ipv4, 6))
		return PKT_BAD;
	op = get16(f + ARP_OP);
	p->src_ip = get32(f + ARP_SPA);
	p->dst_ip = get32(f + ARP_TPA);
	if (p->dst_ip != nif->ip)
		return PKT_OTHER;
	net_arp_learn(nif, p->src_ip, f + ARP_SHA);
	return op == 1 ? PKT_ARP_REQUEST : op == 2 ? PKT_ARP_REPLY : PKT_OTHER;
}

/* ---- IPv4 --------------------------------------------------------------------- */

static enum pkt_kind classify_udp(const uint8_t *f, uint32_t l4, uint32_t end,
				  struct pkt *p)
{
	uint16_t ulen;

	if (end - l4 < UDP_HLEN)
		return PKT_BAD;
	ulen = get16(f + l4 + 4);
	if (ulen < UDP_HLEN || ulen > end - l4)
		return PKT_BAD;
	p->sport = get16(f + l4);
	p->dport = get16(f + l4 + 2);
	p->payload = f + l4 + UDP_HLEN;
	p->payload_len = ulen - UDP_HLEN;
	return PKT_UDP;
}

static enum pkt_kind classify_ip(struct net_if *nif, const uint8_t *f,
				 uint32_t len, struct pkt *p)
{
	uint32_t ihl, total;

	if (len < ETH_HLEN + IP_HLEN || f[IP_VER_IHL] >> 4 != 4)
		return PKT_BAD;
	ihl = (f[IP_VER_IHL] & 15u) * 4;
	total = get16(f + IP_TOTLEN);
	if (ihl < IP_HLEN || total < ihl || ETH_HLEN + total > len)
		return PKT_BAD;
	if (net_fold(net_sum(0, f + IP, ihl)) != 0)
		return PKT_BAD;
	p->len = ETH_HLEN + total;
	p->src_ip = get32(f + IP_SRC);
	p->dst_ip = get32(f + IP_DST);
	if (p->dst_ip != nif->ip || (get16(f + IP_FRAG) & 0x3fff))
		return PKT_OTHER;  /* not ours, or a fragment */
	if (f[IP_PROTO] == IPPROTO_ICMP)
		return total - ihl >= 8 && f[IP + ihl] == 8 ? PKT_ICMP_ECHO
							   : PKT_OTHER;
	if (f[IP_PROTO] == IPPROTO_UDP)
		return classify_udp(f, IP + ihl, ETH_HLEN + total, p);
	return PKT_OTHER;
}

enum pkt_kind net_classify(struct net_if *nif, const uint8_t *f, uint32_t len,
			   struct pkt *p)
{
	uint16_t type;

	memset(p, 0, sizeof(*p));
	p->frame = f;
	p->len = len;
	if (len < ETH_HLEN)
		return PKT_BAD;
	if (memcmp(f + ETH_DST, nif->mac, ETH_ALEN) &&
	    memcmp(f + ETH_DST, broadcast, ETH_ALEN))
		return PKT_OTHER;
	type = get16(f + ETH_TYPE);
	if (type == ETH_P_ARP)
		return classify_arp(nif, f, len, p);
	if (type == ETH_P_IP)
		return classify_ip(nif, f, len, p);
	return PKT_OTHER;
}

/* Reply headers: back to where the request came from. */
static void swap_addresses(const struct pkt *req, const struct net_if *nif,
			   uint8_t *out)
{
	memcpy(out + ETH_DST, req->frame + ETH_SRC, ETH_ALEN);
	memcpy(out + ETH_SRC, nif->mac, ETH_ALEN);
	put32(out + IP_SRC, req->dst_ip);
	put32(out + IP_DST, req->src_ip);
}

uint32_t net_icmp_echo_reply(const struct pkt *req, const struct net_if *nif,
			     uint8_t *out)
{
	uint32_t ihl = (req->frame[IP_VER_IHL] & 15u) * 4;
	uint8_t *icmp = out + IP + ihl;
	uint32_t sum;

	memcpy(out, req->frame, req->len);
	swap_addresses(req, nif, out);
	out[IP_TTL] = 64;
	put16(out + IP_CSUM, 0);
	put16(out + IP_CSUM, net_fold(net_sum(0, out + IP, ihl)));
	/* Type 8 -> 0: patch the checksum (RFC 1624) rather than summing
	 * the whole payload again. */
	icmp[0] = 0;
	sum = (uint16_t)~get16(icmp + 2) + (uint16_t)~0x0800u;
	put16(icmp + 2, net_fold(sum));
	return req->len;
}

uint32_t net_udp_echo(const struct pkt *req, const struct net_if *nif,
		      uint8_t *out)
{
	uint32_t ihl = (req->frame[IP_VER_IHL] & 15u) * 4;

	memcpy(out, req->frame, req->len);
	swap_addresses(req, nif, out);
	put16(out + IP + ihl, req->dport);
	put16(out + IP + ihl + 2, req->sport);
	return req->len;
}

uint32_t net_udp_headers(const struct net_if *nif, uint8_t *out,
			 const uint8_t *dst_mac, uint32_t dst_ip,
			 uint16_t sport, uint16_t dport, uint32_t payload_len,
			 bool partial)
{
	uint8_t *udp = out + IP + IP_HLEN;
	uint32_t ulen = UDP_HLEN + payload_len, sum;

	memcpy(out + ETH_DST, dst_mac, ETH_ALEN);
	memcpy(out + ETH_SRC, nif->mac, ETH_ALEN);
	put16(out + ETH_TYPE, ETH_P_IP);
	out[IP_VER_IHL] = 0x45;
	out[IP + 1] = 0;
	put16(out + IP_TOTLEN, (uint16_t)(IP_HLEN + ulen));
	put32(out + IP + 4, 0x00004000);  /* id 0, DF: never fragmented */
	out[IP_TTL] = 64;
	out[IP_PROTO] = IPPROTO_UDP;
	put16(out + IP_CSUM, 0);
	put32(out + IP_SRC, nif->ip);
	put32(out + IP_DST, dst_ip);
	put16(out + IP_CSUM, net_fold(net_sum(0, out + IP, IP_HLEN)));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)ulen);
	put16(udp + 6, 0);
	if (partial) {
		/* The device adds the UDP header and payload to this. */
		sum = net_sum(0, out + IP_SRC, 8) + IPPROTO_UDP + ulen;
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put16(udp + 6, (uint16_t)sum);
	}
	return UDP_HDRS;
}
