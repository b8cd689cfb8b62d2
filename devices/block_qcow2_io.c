/*
 * qcow2 guest I/O: requests are cut at cluster boundaries and each piece
 * is resolved through the L1 and L2 tables:
 *
 *   unallocated   read from the backing file (zeros past its end, or with
 *                 none); a write allocates a cluster (copy-on-write of
 *                 the backing data around a partial write)
 *   zero          reads zeros; a write allocates
 *   normal        read and written in place (COPIED: ours alone)
 *   compressed    zlib-inflated on read; a write allocates a normal
 *                 cluster and drops the compressed one
 *
 * Nothing here is written compressed.  Lengths and offsets from the image
 * are checked (alignment, sizes) and a bad one fails the request with EIO
 * rather than being trusted.
 */
#include "devices/block_qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum ctype { C_UNALLOC, C_ZERO, C_NORMAL, C_COMPRESSED };

/* Source of zeros for write-zeroes on partial clusters. */
static uint8_t zero_cluster[1u << QCOW2_MAX_CLUSTER_BITS];

/* ---- vectors ------------------------------------------------------------------- */

/* The part of iov covering [skip, skip + len), into out (niov entries). */
static unsigned iov_sub(const struct iovec *iov, unsigned niov, uint64_t skip,
			uint64_t len, struct iovec *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < niov && len; i++) {
		uint64_t take;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		take = iov[i].iov_len - skip < len ? iov[i].iov_len - skip : len;
		out[n++] = (struct iovec){ (uint8_t *)iov[i].iov_base + skip, take };
		len -= take;
		skip = 0;
	}
	return n;
}

static void iov_zero(const struct iovec *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		memset(v[i].iov_base, 0, v[i].iov_len);
}

static void iov_copy_out(const struct iovec *v, unsigned n, const uint8_t *src)
{
	for (unsigned i = 0; i < n; i++) {
		memcpy(v[i].iov_base, src, v[i].iov_len);
		src += v[i].iov_len;
	}
}

static void iov_copy_in(uint8_t *dst, const struct iovec *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		memcpy(dst, v[i].iov_base, v[i].iov_len);
		dst += v[i].iov_len;
	}
}

/* ---- tables -------------------------------------------------------------------- */

/* The L2 table holding virtual cluster vc, and vc's index in it; with
 * alloc, a missing table is created, else *table is NULL for one. */
static int l2_lookup(struct qcow2 *q, uint64_t vc, bool alloc, uint8_t **table,
		     uint64_t *idx)
{
	uint64_t l1i = vc / q->l2_entries, off;
	int err;

	*table = NULL;
	*idx = vc % q->l2_entries;
	if (l1i >= q->l1_size)
		return -EIO;
	off = q->l1[l1i] & QCOW2_OFFSET_MASK;
	if (!off) {
		if (!alloc)
			return 0;
		if ((err = qcow2_alloc_cluster(q, &off)) < 0 ||
		    !(*table = qcache_get(q, &q->l2c, off, true, &err)))
			return err;
		q->l1[l1i] = off | QCOW2_OFLAG_COPIED;
		qcow2_l1_dirty(q, (uint32_t)l1i);
		return 0;
	}
	if (off & (q->cluster_size - 1))
		return -EIO;   /* corrupt: L2 table not cluster-aligned */
	*table = qcache_get(q, &q->l2c, off, false, &err);
	return *table ? 0 : err;
}

static enum ctype classify(const struct qcow2 *q, uint64_t e, uint64_t *host)
{
	*host = e & QCOW2_OFFSET_MASK;
	if (e & QCOW2_OFLAG_COMPRESSED)
		return C_COMPRESSED;
	if (q->version >= 3 && (e & QCOW2_OFLAG_ZERO))
		return C_ZERO;
	return *host ? C_NORMAL : C_UNALLOC;
}

/* Host range of a compressed cluster's data. */
static void compressed_range(const struct qcow2 *q, uint64_t e, uint64_t *off,
			     uint64_t *len)
{
	unsigned x = 62 - (q->cluster_bits - 8);
	uint64_t sectors = ((e >> x) & ((1ULL << (62 - x)) - 1)) + 1;

	*off = e & ((1ULL << x) - 1);
	*len = sectors * 512 - (*off & 511);
}

static int decompress(struct qcow2 *q, uint64_t e, uint8_t *out)
{
	uint64_t off, len;
	z_stream s;
	ssize_t got;
	int ret;

	compressed_range(q, e, &off, &len);
	if (len > 2 * q->cluster_size)
		len = 2 * q->cluster_size;
	got = pread(q->fd, q->cbuf, len, (off_t)off);   /* may end at EOF */
	if (got <= 0)
		return -EIO;
	memset(&s, 0, sizeof(s));
	if (inflateInit2(&s, -15) != Z_OK)   /* raw deflate */
		return -ENOMEM;
	s.next_in = q->cbuf;
	s.avail_in = (uInt)got;
	s.next_out = out;
	s.avail_out = (uInt)q->cluster_size;
	ret = inflate(&s, Z_FINISH);
	inflateEnd(&s);
	if ((ret != Z_STREAM_END && ret != Z_BUF_ERROR) || s.avail_out)
		return -EIO;
	return 0;
}

/* Drop the host clusters entry e held. */
static int release(struct qcow2 *q, uint64_t e)
{
	uint64_t host, off, len;

	switch (classify(q, e, &host)) {
	case C_COMPRESSED:
		compressed_range(q, e, &off, &len);
		return qcow2_free_clusters(q, off & ~511ULL,
					   len + (off & 511));
	case C_NORMAL:
	case C_ZERO:
		return host ? qcow2_free_clusters(q, host, q->cluster_size) : 0;
	default:
		return 0;
	}
}

/* ---- backing -------------------------------------------------------------------- */

/* [voff, voff + len) of the backing image into v (zeros past its end). */
static int read_backing(struct qcow2 *q, uint64_t voff, uint64_t len,
			const struct iovec *v, unsigned n)
{
	struct block_backend *b = q->backing;
	uint64_t have = !b || voff >= b->size ? 0 :
			b->size - voff < len ? b->size - voff : len;
	struct iovec *part;
	unsigned k;
	int rc = 0;

	if (have == len)
		return b->ops->readv(b, v, n, voff);
	part = malloc((n ? n : 1) * sizeof(*part));
	if (!part)
		return -ENOMEM;
	k = iov_sub(v, n, have, len - have, part);
	iov_zero(part, k);
	if (have) {
		k = iov_sub(v, n, 0, have, part);
		rc = b->ops->readv(b, part, k, voff);
	}
	free(part);
	return rc;
}

/* The whole current content of virtual cluster vc into buf. */
static int cluster_content(struct qcow2 *q, uint64_t vc, uint64_t e,
			   uint8_t *buf)
{
	struct iovec v = { buf, q->cluster_size };
	uint64_t host;

	switch (classify(q, e, &host)) {
	case C_UNALLOC:
		return read_backing(q, vc << q->cluster_bits, q->cluster_size,
				    &v, 1);
	case C_ZERO:
		memset(buf, 0, q->cluster_size);
		return 0;
	case C_COMPRESSED:
		return decompress(q, e, buf);
	default:
		return qcow2_pread(q, buf, q->cluster_size, host);
	}
}

/* ---- per-cluster pieces ---------------------------------------------------------- */

typedef int (*piece_fn)(struct qcow2 *q, uint64_t vc, uint64_t in,
			uint64_t len, const struct iovec *v, unsigned n);

static int read_piece(struct qcow2 *q, uint64_t vc, uint64_t in, uint64_t len,
		      const struct iovec *v, unsigned n)
{
	uint64_t idx, e, host;
	uint8_t *t;
	int rc = l2_lookup(q, vc, false, &t, &idx);

	if (rc < 0)
		return rc;
	e = t ? qget64(t + idx * 8) : 0;
	switch (classify(q, e, &host)) {
	case C_UNALLOC:
		return read_backing(q, (vc << q->cluster_bits) + in, len, v, n);
	case C_ZERO:
		iov_zero(v, n);
		return 0;
	case C_COMPRESSED:
		if ((rc = decompress(q, e, q->cow)) < 0)
			return rc;
		iov_copy_out(v, n, q->cow + in);
		return 0;
	default:
		if (host & (q->cluster_size - 1))
			return -EIO;
		return block_preadv_full(q->fd, v, n, host + in);
	}
}

static int write_piece(struct qcow2 *q, uint64_t vc, uint64_t in, uint64_t len,
		       const struct iovec *v, unsigned n)
{
	uint64_t idx, e, host, fresh;
	uint8_t *t;
	int rc = l2_lookup(q, vc, true, &t, &idx);

	if (rc < 0)
		return rc;
	e = qget64(t + idx * 8);
	if (classify(q, e, &host) == C_NORMAL && (e & QCOW2_OFLAG_COPIED)) {
		if (host & (q->cluster_size - 1))
			return -EIO;
		return block_pwritev_full(q->fd, v, n, host + in, false);
	}
	/* Copy-on-write into a new cluster (t stays valid: allocation and
	 * backing reads never touch this image's L2 cache). */
	if ((rc = qcow2_alloc_cluster(q, &fresh)) < 0)
		return rc;
	if (in == 0 && len == q->cluster_size) {
		rc = block_pwritev_full(q->fd, v, n, fresh, false);
	} else if ((rc = cluster_content(q, vc, e, q->cow)) == 0) {
		iov_copy_in(q->cow + in, v, n);
		rc = qcow2_pwrite(q, q->cow, q->cluster_size, fresh);
	}
	if (rc < 0)
		return rc;
	qput64(t + idx * 8, fresh | QCOW2_OFLAG_COPIED);
	qcache_dirty(&q->l2c, t);
	return release(q, e);
}

/* Cut [off, off + total) at cluster boundaries and run fn on each piece. */
static int for_each_piece(struct qcow2 *q, const struct iovec *iov,
			  unsigned niov, uint64_t off, piece_fn fn)
{
	uint64_t total = 0, done = 0;
	struct iovec *sub;
	int rc = 0;

	for (unsigned i = 0; i < niov; i++)
		total += iov[i].iov_len;
	if (off > q->bb.size || total > q->bb.size - off)
		return -EIO;
	sub = malloc((niov ? niov : 1) * sizeof(*sub));
	if (!sub)
		return -ENOMEM;
	while (rc == 0 && done < total) {
		uint64_t pos = off + done, in = pos & (q->cluster_size - 1);
		uint64_t len = q->cluster_size - in;
		unsigned n;

		if (len > total - done)
			len = total - done;
		n = iov_sub(iov, niov, done, len, sub);
		rc = fn(q, pos >> q->cluster_bits, in, len, sub, n);
		done += len;
	}
	free(sub);
	return rc;
}

int qcow2_readv(struct block_backend *bb, const struct iovec *iov,
		unsigned niov, uint64_t off)
{
	return for_each_piece((struct qcow2 *)bb, iov, niov, off, read_piece);
}

int qcow2_writev(struct block_backend *bb, const struct iovec *iov,
		 unsigned niov, uint64_t off)
{
	if (bb->readonly)
		return -EROFS;
	return for_each_piece((struct qcow2 *)bb, iov, niov, off, write_piece);
}

/* ---- discard, write-zeroes ------------------------------------------------------- */

/* Does [off, off + len) cover virtual cluster vc (up to the disk's end)? */
static bool covers(const struct qcow2 *q, uint64_t vc, uint64_t off,
		   uint64_t len)
{
	uint64_t start = vc << q->cluster_bits, end = start + q->cluster_size;

	if (end > q->bb.size)
		end = q->bb.size;
	return off <= start && off + len >= end;
}

/* Give vc the entry `want` (and drop what it had, unless keep_host). */
static int set_entry(struct qcow2 *q, uint64_t vc, bool alloc, uint64_t want,
		     bool keep_host)
{
	uint64_t idx, e;
	uint8_t *t;
	int rc = l2_lookup(q, vc, alloc, &t, &idx);

	if (rc < 0 || !t)
		return rc;   /* no table: nothing allocated, reads as before */
	e = qget64(t + idx * 8);
	if (e == want)
		return 0;
	qput64(t + idx * 8, want);
	qcache_dirty(&q->l2c, t);
	return keep_host ? 0 : release(q, e);
}

int qcow2_discard(struct block_backend *bb, uint64_t off, uint64_t len)
{
	struct qcow2 *q = (struct qcow2 *)bb;
	/* Reads of discarded data may return anything; with a backing file
	 * version 3 says zeros rather than exposing older data. */
	uint64_t want = q->backing && q->version >= 3 ? QCOW2_OFLAG_ZERO : 0;
	int rc = 0;

	if (bb->readonly)
		return -EROFS;
	if (off > bb->size || len > bb->size - off)
		return -EIO;
	for (uint64_t vc = off >> q->cluster_bits;
	     rc == 0 && (vc << q->cluster_bits) < off + len; vc++)
		if (covers(q, vc, off, len))
			rc = set_entry(q, vc, false, want, false);
	return rc;
}

/* One cluster of write-zeroes: as metadata when it can be, else zeros
 * written through the normal path. */
static int zero_piece(struct qcow2 *q, uint64_t vc, uint64_t in, uint64_t len,
		      bool whole, bool unmap)
{
	struct iovec z = { zero_cluster, len };
	uint64_t idx, e, host;
	uint8_t *t;
	int rc;

	if (whole && q->version >= 3) {
		if ((rc = l2_lookup(q, vc, q->backing != NULL, &t, &idx)) < 0 || !t)
			return rc;
		e = qget64(t + idx * 8);
		/* Without unmap an allocated cluster stays allocated. */
		if (!unmap && classify(q, e, &host) == C_NORMAL &&
		    (e & QCOW2_OFLAG_COPIED))
			return set_entry(q, vc, false, host | QCOW2_OFLAG_COPIED |
					 QCOW2_OFLAG_ZERO, true);
		return set_entry(q, vc, q->backing != NULL, QCOW2_OFLAG_ZERO, false);
	}
	if (whole && !q->backing)
		return set_entry(q, vc, false, 0, false);
	return write_piece(q, vc, in, len, &z, 1);
}

int qcow2_write_zeroes(struct block_backend *bb, uint64_t off, uint64_t len,
		       bool unmap)
{
	struct qcow2 *q = (struct qcow2 *)bb;
	uint64_t done = 0;
	int rc = 0;

	if (bb->readonly)
		return -EROFS;
	if (off > bb->size || len > bb->size - off)
		return -EIO;
	while (rc == 0 && done < len) {
		uint64_t pos = off + done, in = pos & (q->cluster_size - 1);
		uint64_t n = q->cluster_size - in, vc = pos >> q->cluster_bits;

		if (n > len - done)
			n = len - done;
		rc = zero_piece(q, vc, in, n, covers(q, vc, off, len), unmap);
		done += n;
	}
	return rc;
}
