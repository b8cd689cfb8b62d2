/*
 * virtio-blk requests (virtio 1.2 section 5.2.6): framing a popped chain
 * into header, data and status, and checking the request against the
 * disk.  Pure functions over host memory, so the fuzzer
 * (tests/fuzz/fuzz_virtio_blk.c) and the unit tests can drive them
 * without a VM.
 *
 * A request is
 *
 *   struct virtio_blk_req_hdr { le32 type; le32 reserved; le64 sector; }
 *   u8 data[];        device-readable (OUT, DISCARD, WRITE_ZEROES) or
 *                     device-writable (IN, GET_ID)
 *   u8 status;        the last device-writable byte
 *
 * in any split over descriptors (VIRTIO_F_VERSION_1 implies ANY_LAYOUT).
 */
#ifndef XENON_VIRTIO_BLK_REQ_H
#define XENON_VIRTIO_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtqueue.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_CONFIG_WCE  11
#define VIRTIO_BLK_F_MQ          12
#define VIRTIO_BLK_F_DISCARD     13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types. */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD     11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Status byte. */
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_WZ_FLAG_UNMAP 1u

#define BLK_SECTOR_SHIFT 9
#define BLK_SECTOR_SIZE  512u
#define BLK_HDR_BYTES    16u
#define BLK_ID_BYTES     20u
#define BLK_DWZ_BYTES    16u   /* one discard / write-zeroes segment */

/* Part of a chain: segments of the iov array, trimmed in place. */
struct blk_span {
	struct iovec *iov;
	unsigned n;
	uint64_t len;
};

/* A framed request: the header decoded, the device-readable bytes after
 * it (out) and the device-writable bytes before the status (in). */
struct blk_request {
	uint32_t type;
	uint64_t sector;
	uint8_t *status;           /* host address of the status byte */
	struct blk_span out, in;
};

/* What the disk allows (filled from the device's configuration). */
struct blk_limits {
	uint64_t capacity;         /* sectors, below 2^55 (bytes fit 64 bits) */
	bool readonly;
	bool discard, write_zeroes;
	uint32_t seg_max, size_max;
	uint32_t max_discard_sectors, max_write_zeroes_sectors;
};

/* What to do with a checked request. */
struct blk_op {
	uint8_t status;            /* != OK: complete now with this status */
	uint64_t offset, len;      /* bytes, for data and range requests */
	bool unmap;                /* WRITE_ZEROES may free the space */
};

/*
 * Frame the chain e.  Returns 0, or -1 with *why when the chain cannot be
 * a request at all (fewer than 16 device-readable bytes before any
 * device-writable one, or no device-writable byte for the status): there
 * is nowhere to report an error, so the device must be marked broken.
 */
int blk_frame(struct virtq_elem *e, struct blk_request *r, const char **why);

/* Check a framed request against the disk (sector range inside the
 * capacity, whole sectors, segment limits, read-only, known type) and
 * decode DISCARD / WRITE_ZEROES segments. */
struct blk_op blk_check(const struct blk_request *r,
			const struct blk_limits *l);

#endif
