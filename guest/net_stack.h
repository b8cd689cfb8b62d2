/*
 * The test guest's tiny IPv4 stack: Ethernet, ARP (answers and asks),
 * IPv4 without fragments or options it needs to understand, ICMP echo
 * replies and UDP.  Everything here works on caller buffers and touches
 * no device, so it runs in ring 3 as well as ring 0.  Addresses are kept
 * in host byte order; frames are in network order.
 */
#ifndef GUEST_NET_STACK_H
#define GUEST_NET_STACK_H

#include <stdbool.h>
#include <stdint.h>

#define ETH_ALEN      6
#define ETH_HLEN      14
#define ETH_P_IP      0x0800
#define ETH_P_ARP     0x0806
#define IP_HLEN       20
#define UDP_HLEN      8
#define UDP_HDRS      (ETH_HLEN + IP_HLEN + UDP_HLEN)   /* 42 */
#define ARP_FRAME_LEN (ETH_HLEN + 28)
#define IPPROTO_ICMP  1
#define IPPROTO_UDP   17
#define NET_ARP_SLOTS 8

struct net_if {
	uint8_t mac[ETH_ALEN];
	uint32_t ip, mask;
	struct {
		uint32_t ip;
		uint8_t mac[ETH_ALEN];
	} arp[NET_ARP_SLOTS];
	unsigned arp_next;
};

enum pkt_kind {
	PKT_OTHER,        /* not for us, or a protocol we ignore */
	PKT_BAD,          /* for us but malformed (short, bad checksum) */
	PKT_ARP_REQUEST,  /* asks for our address */
	PKT_ARP_REPLY,
	PKT_ICMP_ECHO,
	PKT_UDP,
};

/* What net_classify() found out about a frame. */
struct pkt {
	const uint8_t *frame;
	uint32_t len;                  /* frame bytes that count (IP total) */
	uint32_t src_ip, dst_ip;
	uint16_t sport, dport;
	const uint8_t *payload;        /* UDP payload */
	uint32_t payload_len;
};

void net_if_init(struct net_if *nif, const uint8_t mac[ETH_ALEN],
		 uint32_t ip, unsigned prefix);
/* "10.0.0.2" or "10.0.0.2/24" (prefix left alone without "/"). */
bool net_parse_ip(const char *s, uint32_t *ip, unsigned *prefix);
/* "10.0.0.1:5001". */
bool net_parse_ip_port(const char *s, uint32_t *ip, uint16_t *port);

enum pkt_kind net_classify(struct net_if *nif, const uint8_t *frame,
			   uint32_t len, struct pkt *p);

void net_arp_learn(struct net_if *nif, uint32_t ip, const uint8_t *mac);
bool net_arp_lookup(const struct net_if *nif, uint32_t ip, uint8_t *mac);

/* Frame builders: return the frame length written into out. */
uint32_t net_arp_reply(const struct net_if *nif, const struct pkt *req,
		       uint8_t *out);
uint32_t net_arp_request(const struct net_if *nif, uint32_t target_ip,
			 uint8_t *out);
uint32_t net_icmp_echo_reply(const struct pkt *req, const struct net_if *nif,
			     uint8_t *out);
/* The request with addresses and ports swapped: the checksums stay
 * valid (the pseudo-header sum does not depend on the order). */
uint32_t net_udp_echo(const struct pkt *req, const struct net_if *nif,
		      uint8_t *out);
/* Ethernet + IPv4 + UDP headers for payload_len bytes; UDP checksum 0
 * (none), or the pseudo-header sum when partial is set (for a device that
 * completes it: VIRTIO_NET_HDR_F_NEEDS_CSUM at 34, offset 6). */
uint32_t net_udp_headers(const struct net_if *nif, uint8_t *out,
			 const uint8_t *dst_mac, uint32_t dst_ip,
			 uint16_t sport, uint16_t dport, uint32_t payload_len,
			 bool partial);

/* 16-bit ones' complement sum and the Internet checksum. */
uint32_t net_sum(uint32_t sum, const void *buf, uint32_t len);
uint16_t net_fold(uint32_t sum);

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
