/*
 * The virtio-net header (virtio 1.2 section 5.1.6) and the rules around
 * it: which feature combinations mean what, which offloads the TAP may
 * hand the guest, and whether a header the guest transmits is one it was
 * allowed to write.  Pure functions, shared by the device, its unit test
 * and its fuzz target.
 */
#ifndef XENON_VIRTIO_NET_HDR_H
#define XENON_VIRTIO_NET_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Feature bits (virtio 1.2 5.1.3). */
#define VIRTIO_NET_F_CSUM        0
#define VIRTIO_NET_F_GUEST_CSUM  1
#define VIRTIO_NET_F_MTU         3
#define VIRTIO_NET_F_MAC         5
#define VIRTIO_NET_F_GUEST_TSO4  7
#define VIRTIO_NET_F_GUEST_TSO6  8
#define VIRTIO_NET_F_GUEST_ECN   9
#define VIRTIO_NET_F_GUEST_UFO   10
#define VIRTIO_NET_F_HOST_TSO4   11
#define VIRTIO_NET_F_HOST_TSO6   12
#define VIRTIO_NET_F_HOST_ECN    13
#define VIRTIO_NET_F_HOST_UFO    14
#define VIRTIO_NET_F_MRG_RXBUF   15
#define VIRTIO_NET_F_STATUS      16
#define VIRTIO_NET_F_GUEST_USO4  54
#define VIRTIO_NET_F_GUEST_USO6  55
#define VIRTIO_NET_F_HOST_USO    56

#define VIRTIO_NET_S_LINK_UP     1

/* Header flags and GSO types. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_F_RSC_INFO   4
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_UDP      3
#define VIRTIO_NET_HDR_GSO_TCPV6    4
#define VIRTIO_NET_HDR_GSO_UDP_L4   5
#define VIRTIO_NET_HDR_GSO_ECN      0x80

/* Always 12 bytes: VERSION_1 has num_buffers whether or not MRG_RXBUF. */
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

#define VNET_HDR_LEN      12
#define VNET_NUM_BUFFERS_OFF 10
#define VNET_ETH_HLEN     14
/* Largest frame either way: 64 KiB of GSO payload and headers, or a
 * 65535-byte MTU, plus Ethernet and one VLAN tag. */
#define VNET_MAX_FRAME    (65536 + 18)

_Static_assert(sizeof(struct virtio_net_hdr_v1) == VNET_HDR_LEN, "vnet hdr");

static inline bool vnet_has(uint64_t features, unsigned bit)
{
	return features >> bit & 1;
}

/*
 * The features acked minus those whose prerequisites were not (spec
 * 5.1.3.1: the TSO/UFO/USO bits need the matching checksum bit, ECN needs
 * TSO).  The device acts on this set, so a driver that acks an
 * inconsistent set gets the consistent part of it.
 */
uint64_t vnet_effective_features(uint64_t acked);
/* TUNSETOFFLOAD bits (NET_TAP_F_*) for what the guest can receive. */
unsigned vnet_tap_offloads(uint64_t effective);
/* Does the guest take GSO frames (so receive buffers must hold 64 KiB)? */
bool vnet_guest_gso(uint64_t effective);

/*
 * Check the header of a frame the guest transmits (frame_len bytes after
 * the header) against the effective features.  NULL if acceptable, else
 * what is wrong, written into why.
 */
const char *vnet_tx_hdr_check(const struct virtio_net_hdr_v1 *h,
			      uint32_t frame_len, uint64_t effective,
			      char *why, size_t why_len);

#endif
