/* virtio-net header rules (see virtio_net_hdr.h). */
#include "devices/virtio_net_hdr.h"

#include <stdarg.h>
#include <stdio.h>

#include "devices/net_tap.h"

#define BIT(b) (1ULL << (b))

uint64_t vnet_effective_features(uint64_t f)
{
	static const unsigned need_guest_csum[] = {
		VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
		VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_UFO,
		VIRTIO_NET_F_GUEST_USO4, VIRTIO_NET_F_GUEST_USO6,
	};
	static const unsigned need_csum[] = {
		VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
		VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_UFO,
		VIRTIO_NET_F_HOST_USO,
	};

	for (size_t i = 0; i < sizeof(need_guest_csum) / sizeof(unsigned); i++)
		if (!vnet_has(f, VIRTIO_NET_F_GUEST_CSUM))
			f &= ~BIT(need_guest_csum[i]);
	for (size_t i = 0; i < sizeof(need_csum) / sizeof(unsigned); i++)
		if (!vnet_has(f, VIRTIO_NET_F_CSUM))
			f &= ~BIT(need_csum[i]);
	if (!(f & (BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6))))
		f &= ~BIT(VIRTIO_NET_F_GUEST_ECN);
	if (!(f & (BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6))))
		f &= ~BIT(VIRTIO_NET_F_HOST_ECN);
	return f;
}

unsigned vnet_tap_offloads(uint64_t f)
{
	unsigned t = 0;

	if (!vnet_has(f, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	t |= NET_TAP_F_CSUM;
	if (vnet_has(f, VIRTIO_NET_F_GUEST_TSO4))
		t |= NET_TAP_F_TSO4;
	if (vnet_has(f, VIRTIO_NET_F_GUEST_TSO6))
		t |= NET_TAP_F_TSO6;
	if (vnet_has(f, VIRTIO_NET_F_GUEST_ECN))
		t |= NET_TAP_F_TSO_ECN;
	if (vnet_has(f, VIRTIO_NET_F_GUEST_UFO))
		t |= NET_TAP_F_UFO;
	/* tun takes UDP segmentation for both families or neither. */
	if (vnet_has(f, VIRTIO_NET_F_GUEST_USO4) &&
	    vnet_has(f, VIRTIO_NET_F_GUEST_USO6))
		t |= NET_TAP_F_USO4 | NET_TAP_F_USO6;
	return t;
}

bool vnet_guest_gso(uint64_t f)
{
	return f & (BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
		    BIT(VIRTIO_NET_F_GUEST_UFO) | BIT(VIRTIO_NET_F_GUEST_USO4) |
		    BIT(VIRTIO_NET_F_GUEST_USO6));
}

static const char *bad(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static const char *bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return why;
}

/* The feature a GSO type needs, or -1 for an unknown type. */
static int gso_feature(unsigned type)
{
	switch (type) {
	case VIRTIO_NET_HDR_GSO_TCPV4: return VIRTIO_NET_F_HOST_TSO4;
	case VIRTIO_NET_HDR_GSO_TCPV6: return VIRTIO_NET_F_HOST_TSO6;
	case VIRTIO_NET_HDR_GSO_UDP: return VIRTIO_NET_F_HOST_UFO;
	case VIRTIO_NET_HDR_GSO_UDP_L4: return VIRTIO_NET_F_HOST_USO;
	default: return -1;
	}
}

static const char *check_gso(const struct virtio_net_hdr_v1 *h,
			     uint32_t frame_len, uint64_t f, char *why,
			     size_t len)
{
	unsigned type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	int need = gso_feature(type);

	if (need < 0)
		return bad(why, len, "unknown gso_type %u", type);
	if (!vnet_has(f, (unsigned)need))
		return bad(why, len, "gso_type %u without its feature bit %u "
			   "negotiated", type, (unsigned)need);
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    !vnet_has(f, VIRTIO_NET_F_HOST_ECN))
		return bad(why, len, "GSO_ECN without VIRTIO_NET_F_HOST_ECN");
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return bad(why, len, "gso_type %u without NEEDS_CSUM", type);
	if (h->gso_size == 0)
		return bad(why, len, "gso_type %u with gso_size 0", type);
	if (h->hdr_len > frame_len)
		return bad(why, len, "hdr_len %u beyond the %u-byte frame",
			   h->hdr_len, frame_len);
	return NULL;
}

const char *vnet_tx_hdr_check(const struct virtio_net_hdr_v1 *h,
			      uint32_t frame_len, uint64_t f, char *why,
			      size_t len)
{
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return bad(why, len, "flags 0x%x on a transmitted frame",
			   h->flags);
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!vnet_has(f, VIRTIO_NET_F_CSUM))
			return bad(why, len, "NEEDS_CSUM without VIRTIO_NET_F_CSUM");
		if ((uint32_t)h->csum_start + h->csum_offset + 2 > frame_len)
			return bad(why, len, "checksum at %u beyond the %u-byte frame",
				   (unsigned)h->csum_start + h->csum_offset,
				   frame_len);
	}
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return check_gso(h, frame_len, f, why, len);
	return NULL;
}
