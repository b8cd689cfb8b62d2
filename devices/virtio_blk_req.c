/*
 * virtio-blk request framing and checks; see virtio_blk_req.h.
 *
 * Every length here comes from the guest, so sums are done in 64 bits
 * (chains are capped at 4 GiB by the descriptor length field and at the
 * queue size by the virtqueue walker) and sector ranges are compared
 * without adding first.
 */
#include "devices/virtio_blk_req.h"

#include <string.h>

/* Skip `skip` bytes at the start of segments [0, n): the span that is
 * left.  The caller knows the segments hold at least `skip` bytes. */
static struct blk_span trim_front(struct iovec *iov, unsigned n, uint64_t len,
				  uint64_t skip)
{
	struct blk_span s = { iov, n, len - skip };

	while (s.n && skip >= s.iov->iov_len) {
		skip -= s.iov->iov_len;
		s.iov++;
		s.n--;
	}
	if (s.n && skip) {
		s.iov->iov_base = (uint8_t *)s.iov->iov_base + skip;
		s.iov->iov_len -= skip;
	}
	return s;
}

int blk_frame(struct virtq_elem *e, struct blk_request *r, const char **why)
{
	uint8_t hdr[BLK_HDR_BYTES];
	struct iovec *last;

	memset(r, 0, sizeof(*r));
	if (e->out_bytes < BLK_HDR_BYTES) {
		*why = "request header shorter than 16 bytes";
		return -1;
	}
	if (e->in_num == 0 || e->in_bytes == 0) {
		*why = "request without a device-writable status byte";
		return -1;
	}
	virtq_iov_to_buf(e->iov, e->out_num, hdr, sizeof(hdr));
	memcpy(&r->type, hdr, 4);
	memcpy(&r->sector, hdr + 8, 8);
	r->out = trim_front(e->iov, e->out_num, e->out_bytes, BLK_HDR_BYTES);

	/* The status is the last writable byte; the walker drops empty
	 * descriptors, so the last segment holds at least one byte. */
	last = &e->iov[e->out_num + e->in_num - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	last->iov_len--;
	r->in.iov = &e->iov[e->out_num];
	r->in.n = e->in_num - (last->iov_len == 0);
	r->in.len = (uint64_t)e->in_bytes - 1;
	return 0;
}

static bool range_ok(uint64_t sector, uint64_t sectors, uint64_t capacity)
{
	return sector <= capacity && sectors <= capacity - sector;
}

/* Data of a read or write: whole sectors, within seg_max and size_max. */
static bool data_ok(const struct blk_span *d, const struct blk_limits *l)
{
	if (d->len % BLK_SECTOR_SIZE)
		return false;
	if (l->seg_max && d->n > l->seg_max)
		return false;
	for (unsigned i = 0; l->size_max && i < d->n; i++)
		if (d->iov[i].iov_len > l->size_max)
			return false;
	return true;
}

static struct blk_op status_op(uint8_t status)
{
	return (struct blk_op){ .status = status };
}

static struct blk_op rw_op(const struct blk_request *r,
			   const struct blk_span *data,
			   const struct blk_span *other,
			   const struct blk_limits *l)
{
	uint64_t sectors = data->len >> BLK_SECTOR_SHIFT;

	/* A read carries no readable data after the header, a write no
	 * writable data before the status. */
	if (other->len || !data_ok(data, l) ||
	    !range_ok(r->sector, sectors, l->capacity))
		return status_op(VIRTIO_BLK_S_IOERR);
	return (struct blk_op){
		.status = VIRTIO_BLK_S_OK,
		.offset = r->sector << BLK_SECTOR_SHIFT,
		.len = data->len,
	};
}

/* One struct virtio_blk_discard_write_zeroes segment (max_*_seg is 1). */
static struct blk_op range_op(const struct blk_request *r,
			      const struct blk_limits *l)
{
	bool wz = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
	uint8_t seg[BLK_DWZ_BYTES];
	uint64_t sector;
	uint32_t sectors, flags;

	if (wz ? !l->write_zeroes : !l->discard)
		return status_op(VIRTIO_BLK_S_UNSUPP);
	if (l->readonly || r->out.len != BLK_DWZ_BYTES)
		return status_op(VIRTIO_BLK_S_IOERR);
	virtq_iov_to_buf(r->out.iov, r->out.n, seg, sizeof(seg));
	memcpy(&sector, seg, 8);
	memcpy(&sectors, seg + 8, 4);
	memcpy(&flags, seg + 12, 4);
	/* Unknown flags, and unmap on a discard, are refused (5.2.6.2). */
	if (flags & ~(wz ? VIRTIO_BLK_WZ_FLAG_UNMAP : 0u))
		return status_op(VIRTIO_BLK_S_UNSUPP);
	if (sectors > (wz ? l->max_write_zeroes_sectors : l->max_discard_sectors) ||
	    !range_ok(sector, sectors, l->capacity))
		return status_op(VIRTIO_BLK_S_IOERR);
	return (struct blk_op){
		.status = VIRTIO_BLK_S_OK,
		.offset = sector << BLK_SECTOR_SHIFT,
		.len = (uint64_t)sectors << BLK_SECTOR_SHIFT,
		.unmap = flags & VIRTIO_BLK_WZ_FLAG_UNMAP,
	};
}

struct blk_op blk_check(const struct blk_request *r, const struct blk_limits *l)
{
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		return rw_op(r, &r->in, &r->out, l);
	case VIRTIO_BLK_T_OUT:
		if (l->readonly)
			return status_op(VIRTIO_BLK_S_IOERR);
		return rw_op(r, &r->out, &r->in, l);
	case VIRTIO_BLK_T_FLUSH:
		return status_op(VIRTIO_BLK_S_OK);
	case VIRTIO_BLK_T_GET_ID:
		return status_op(r->in.len ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return range_op(r, l);
	default:
		return status_op(VIRTIO_BLK_S_UNSUPP);
	}
}
