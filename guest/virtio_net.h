/*
 * virtio-net driver for the test guest.
 *
 * Each queue pairs descriptor i with buffer i for good (one 2 KiB buffer,
 * header and frame, per descriptor), so the data path is a handful of
 * plain memory operations on the rings: the vr_* functions below touch no
 * ports and can run in ring 3 under user_call(), where the guest runs
 * natively instead of emulated (docs/test-guest.md).  vr_kick() is one
 * MMIO store to the notify address, which ring 3 may do as well (the BARs
 * are mapped user-accessible); with EVENT_IDX it is rare.  Interrupts and
 * waiting stay in ring 0 (vnet_wait_*).
 */
#ifndef GUEST_VIRTIO_NET_H
#define GUEST_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/virtio_pci.h"

#define VNET_HDR_LEN   12
#define VNET_BUF_SIZE  2048          /* header + a 1514-byte frame, rounded */
#define VNET_FRAME_MAX (VNET_BUF_SIZE - VNET_HDR_LEN)
#define VNET_QSIZE     256

/* Feature bits the guest may ask for. */
#define VNET_F_CSUM       (1ULL << 0)
#define VNET_F_GUEST_CSUM (1ULL << 1)
#define VNET_F_MAC        (1ULL << 5)
#define VNET_F_MRG_RXBUF  (1ULL << 15)
#define VNET_F_STATUS     (1ULL << 16)
#define VNET_F_EVENT_IDX  (1ULL << 29)
#define VNET_F_GUEST_USO4 (1ULL << 54)
#define VNET_F_GUEST_USO6 (1ULL << 55)
#define VNET_F_HOST_USO   (1ULL << 56)

#define VNET_HDR_F_NEEDS_CSUM 1
#define VNET_HDR_F_DATA_VALID 2
#define VNET_GSO_NONE   0
#define VNET_GSO_UDP_L4 5

struct vnet_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
};

/* One queue with its fixed buffers. */
struct vnet_ring {
	struct virtq q;
	uint8_t *bufs;               /* buffer i at bufs + i * stride */
	uint32_t stride;
	uint16_t nbufs;              /* buffers (transmit: how many can fly) */
	uint16_t kicked;             /* avail when we last decided on a kick */
	bool event_idx;              /* VIRTIO_F_EVENT_IDX: avail/used_event */
	uint16_t avail;              /* our avail->idx */
	uint16_t used;               /* next used entry to look at */
	uint16_t nfree;              /* transmit: free descriptors */
	uint16_t free[VNET_QSIZE];
	volatile unsigned irqs;
};

struct vnet {
	struct virtio_dev vd;
	struct vnet_ring rx, tx;
	uint8_t mac[6];
	bool present;
};

extern struct vnet vnet;
/* Called by vnet_init() just before DRIVER_OK, when set (net-bad uses it
 * to corrupt the receive ring the device looks at first). */
extern void (*vnet_before_driver_ok)(void);

/* Find and start the first virtio-net device (again after a reset);
 * `features` adds to MAC, STATUS, MRG_RXBUF and EVENT_IDX.  Interrupts
 * start suppressed: the vnet_wait_* functions ask for them. */
bool vnet_init(uint64_t features);
/* Transmit from n buffers of size bytes each instead (for segmentation
 * offload: one 64 KiB frame per descriptor).  Nothing may be in flight. */
bool vnet_tx_big_buffers(unsigned n, uint32_t size);
bool vnet_has(uint64_t feature);
/* The device's status register (NEEDS_RESET is 0x40). */
uint8_t vnet_status(void);

/* ---- ring operations: memory only, fine in ring 3 ---- */

/* The next received buffer (header first) and its length, or NULL;
 * *id names it for vr_rx_repost(). */
uint8_t *vr_rx_next(struct vnet_ring *r, uint32_t *len, uint16_t *id);
void vr_rx_repost(struct vnet_ring *r, uint16_t id);
/* Collect finished transmissions. */
void vr_tx_reclaim(struct vnet_ring *r);
/* A free transmit buffer (header first), or NULL if all are in flight. */
uint8_t *vr_tx_alloc(struct vnet_ring *r, uint16_t *id);
/* Queue buffer id with len bytes (header included); needs vnet_kick(). */
void vr_tx_post(struct vnet_ring *r, uint16_t id, uint32_t len);
/* Does the device need a kick for what was queued since the last one?
 * With EVENT_IDX only when it has run dry (avail_event); else always. */
bool vr_kick_needed(const struct vnet_ring *r);
/* Kick if needed (fine in ring 3); true if it did. */
bool vr_kick(struct vnet_ring *r);
/* Interrupts for this ring: wanted from the next used entry on, or not. */
void vr_irq_arm(struct vnet_ring *r);
void vr_irq_quiet(struct vnet_ring *r);

/* ---- ring 0 ---- */

/* vr_kick(); vnet_kick_now() kicks regardless. */
void vnet_kick(struct vnet_ring *r);
void vnet_kick_now(struct vnet_ring *r);
/* Send one frame (copied; NULL hdr: no offload); false if the ring is
 * full even after waiting up to 1 s. */
bool vnet_send(const struct vnet_hdr *hdr, const void *frame, uint32_t len);
/* Halt until a receive interrupt, or the TSC reaches deadline. */
void vnet_wait_rx(uint64_t deadline);
/* Halt until a transmit completes (interrupts asked for meanwhile). */
void vnet_wait_tx(uint64_t deadline);

#endif
