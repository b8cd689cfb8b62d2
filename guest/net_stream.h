/*
 * UDP streams between the test guest and the host, for net-stream.  The
 * per-datagram work runs in ring 3 (user_call), a burst of frames per
 * call; ring 0 only kicks and waits.
 *
 * Datagram payload (size bytes, big-endian words):
 *   0  magic  STREAM_DATA, or STREAM_END (then: seq = datagrams sent)
 *   4  seq    0, 1, 2, ...
 *   8  crc    zlib CRC-32 of bytes 12..size
 *   12 data   pattern[(seq & 255) ...], pattern[i] = (i * 13 + 7) & 255
 * The guest announces itself to a receiving host with STREAM_READY.
 */
#ifndef GUEST_NET_STREAM_H
#define GUEST_NET_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/net_stack.h"
#include "guest/virtio_net.h"

#define STREAM_DATA  0x584e5331u   /* "XNS1" */
#define STREAM_END   0x584e5345u   /* "XNSE" */
#define STREAM_READY 0x584e5352u   /* "XNSR" */
#define STREAM_HDR   12
#define STREAM_MAX   (VNET_FRAME_MAX - UDP_HDRS)

/* Largest frame with UDP segmentation offload: 64 KiB buffers. */
#define STREAM_GSO_BUF   65536
#define STREAM_GSO_BYTES 63000              /* UDP payload per frame */

/* Guest -> host.  With segs > 1 each frame carries segs datagrams for the
 * device (the host's stack) to cut apart: VIRTIO_NET_HDR_GSO_UDP_L4. */
struct stream_tx {
	struct vnet_ring *ring;
	const struct net_if *nif;
	uint8_t dst_mac[ETH_ALEN];
	uint32_t dst_ip;
	uint16_t port;
	bool partial;                           /* device completes checksums */
	uint32_t segs;                          /* datagrams per frame */
	uint32_t size;                          /* payload bytes per datagram */
	uint32_t seq, count;
	uint64_t frames;
	uint64_t spin;                          /* TSC ticks to poll when idle */
	unsigned kicks;
	uint32_t crc[256];                      /* per seq & 255 */
};

/* Host -> guest. */
struct stream_rx {
	struct vnet_ring *ring;
	uint32_t ip;
	uint16_t port;
	uint32_t expect, got, lost, reordered, bad;
	uint64_t bytes, first_tsc, last_tsc;
	bool end;
	uint32_t end_count;                     /* datagrams the host sent */
	uint64_t frames, big_frames;            /* big: segmentation offload */
	uint64_t spin;                          /* TSC ticks to poll when idle */
	unsigned kicks;
	/* A frame that is not stream data, left for ring 0. */
	uint8_t *slow_buf;
	uint32_t slow_len;
	uint16_t slow_id;
};

/* The pattern table (size + 256 bytes), built once. */
const uint8_t *stream_pattern(void);
/* Fill payload for seq (size bytes); the CRC comes from crc_for_seq. */
void stream_fill(uint8_t *payload, uint32_t size, uint32_t seq, uint32_t crc);

/*
 * Ring-3 entry points for user_call(): arg is the struct.  The bursts keep
 * going as long as the device keeps up (queueing as slots free up, taking
 * frames as they come, kicking when the device ran dry, polling up to
 * `spin` ticks when there is nothing to do) and return to ring 0 only to
 * halt, at the end, or (receive) for a frame that is not stream data.
 */
uint64_t stream_tx_prepare(void *tx);   /* CRC table */
uint64_t stream_tx_burst(void *tx);     /* frames queued */
uint64_t stream_rx_burst(void *rx);     /* frames consumed */

#endif
